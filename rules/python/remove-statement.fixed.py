def evens(values):
    out = []
    for v in values:
        if v % 2 == 0:
            out.append(v)
    return out
