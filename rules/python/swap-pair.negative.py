def triple(a, b, c):
    return a, b, c
