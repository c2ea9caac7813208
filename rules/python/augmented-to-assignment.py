def last_positive(values):
    found = 0
    for v in values:
        if v > 0:
            found += v
    return found
