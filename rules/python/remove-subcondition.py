def accept(x, seen):
    if x > 0 and x in seen:
        seen.add(x)
        return True
    return False
