def reset():
    count = 0
    label = "none"
    return None
