def count_below(values, limit):
    n = 0
    for v in values:
        if v < limit:
            n += 1
    return n
