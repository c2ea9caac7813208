def sign_word(n):
    return "non-negative" if n >= 0 else "negative"
