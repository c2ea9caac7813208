def middle(items):
    return items[len(items) // 2]


def count_pairs(n):
    return n * (n - 1)
