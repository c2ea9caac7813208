def all_positive(values):
    return all(v > 0 for v in values)
