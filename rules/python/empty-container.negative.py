def corners(w, h):
    return [(0, 0), (w, h)]
