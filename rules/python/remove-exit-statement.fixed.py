def first_even(values):
    found = None
    for v in values:
        if v % 2 == 0:
            found = v
    return found
