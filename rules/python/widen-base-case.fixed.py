def already_sorted(seq):
    if len(seq) <= 1:
        return True
    return all(a <= b for a, b in zip(seq, seq[1:]))
