def area(w, h):
    return w * h


def perimeter(w, h):
    return 2 * (w + h)


def report(w, h):
    return area(w, h), perimeter(w, h)
