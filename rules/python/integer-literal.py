def first_index(items, wanted):
    i = 1
    for x in items:
        if x == wanted:
            return i
        i += 1
    return -1
