def flip(x):
    return not x
