def contains(items, wanted):
    for x in items:
        if x == wanted:
            return True
    return False
