def flags(a, b):
    return a | b
