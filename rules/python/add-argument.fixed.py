def clamp_all(values, hi):
    return [min(v, hi) for v in values]
