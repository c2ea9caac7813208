def total(prices):
    s = 0
    for p in prices:
        s += p
    return s
