def is_blank(text):
    return text is None or text.strip() == ""
