def total_length(parts):
    return sum(len(p) for p in parts)
