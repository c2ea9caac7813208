def first_index(items, wanted):
    i = 0
    for x in items:
        if x == wanted:
            return i
        i += 1
    return -1
