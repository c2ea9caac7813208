def describe(count):
    return "count: " + count
