def defaults():
    x = None
    return "none"
