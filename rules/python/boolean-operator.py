def is_blank(text):
    return text is None and text.strip() == ""
