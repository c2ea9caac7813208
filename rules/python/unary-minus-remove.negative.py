def same(x):
    return +x
