def build(pairs):
    index = {}
    order = []
    for key, value in pairs:
        index[key] = value
        order.append(key)
    return index, order
