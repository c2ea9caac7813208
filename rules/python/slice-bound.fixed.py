def tail(items):
    return items[1:]
