def total(values):
    result = 0
    for v in values:
        result = result + v
    return result
