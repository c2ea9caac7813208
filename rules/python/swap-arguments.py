def power_table(base, n):
    return [pow(n, base) for _ in range(1)]
