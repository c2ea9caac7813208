def sign_word(n):
    return "negative" if n >= 0 else "non-negative"
