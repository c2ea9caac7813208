def describe(count):
    return "count: " + str(count)
