def clamp_all(values, hi):
    return [min(v) for v in values]
