def missing(value):
    return value is None
