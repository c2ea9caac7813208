def find(items, wanted):
    for i, x in enumerate(items):
        if x == wanted:
            return x
    return -1
