def pick(a, b):
    if a:
        return b
    return None
