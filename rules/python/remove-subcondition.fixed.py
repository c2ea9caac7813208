def accept(x, seen):
    if x > 0:
        seen.add(x)
        return True
    return False
