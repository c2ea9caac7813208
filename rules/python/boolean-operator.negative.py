def pick(a, b):
    if a:
        return a
    return b
