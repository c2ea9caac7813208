def total_price(items, price):
    total = 0
    for item in items:
        total += item.count * price
    return total
