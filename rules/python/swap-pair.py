def divide(a, b):
    q, r = a % b, a // b
    return q, r
