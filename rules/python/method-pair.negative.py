def double(x):
    return twice(x)
