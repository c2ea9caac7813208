def check():
    if True:
        return 1
    return 0
