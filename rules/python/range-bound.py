def squares_up_to(n):
    out = []
    for i in range(1, n):
        out.append(i * i)
    return out
