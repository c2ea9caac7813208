def midpoint(lo, hi):
    return (lo + hi) // 2
