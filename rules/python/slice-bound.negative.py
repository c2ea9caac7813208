def head(xs):
    return xs[0]
