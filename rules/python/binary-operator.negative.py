def largest(a, b):
    return max(a, b)
