def build(pairs):
    index = {}
    order = []
    for key, value in pairs:
        index[key] = value
    return index, order
