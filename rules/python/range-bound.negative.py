def total(items, bounds):
    s = 0
    for i, item in enumerate(items, 1):
        s += item
    for j in range(*bounds):
        s += j
    return s
