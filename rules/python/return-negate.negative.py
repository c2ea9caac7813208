def pair(a, b):
    if a is None:
        return None
    return a, b
