def flatten(rows):
    out = []
    for row in rows:
        out.extend(row)
    return out
