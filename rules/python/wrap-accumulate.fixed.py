def longest_run(values):
    best = run = 0
    prev = None
    for v in values:
        run = run + 1 if v == prev else 1
        best = max(best, run)
        prev = v
    return best
