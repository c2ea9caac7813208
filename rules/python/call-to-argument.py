def total_length(parts):
    return len(sum(len(p) for p in parts))
