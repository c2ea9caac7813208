def tail(items):
    return items[2:]
