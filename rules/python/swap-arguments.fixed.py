def power_table(base, n):
    return [pow(base, n) for _ in range(1)]
