def longest(words):
    best = None
    for w in words:
        if len(w) > len(best):
            best = w
    return best
