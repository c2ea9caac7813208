def within(lo, x, hi):
    return lo <= x <= hi
