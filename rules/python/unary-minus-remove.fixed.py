def step(direction):
    return abs(direction)
