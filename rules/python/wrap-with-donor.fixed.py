def capped_total(values, cap):
    total = sum(values)
    return min(total, cap)
