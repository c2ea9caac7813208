def first(values):
    for v in values:
        return v
    raise ValueError("empty")
