def sums_with_first(values):
    first = values[0]
    return [first + v for v in values[1:]]
