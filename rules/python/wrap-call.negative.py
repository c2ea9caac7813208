def defaults():
    x = None
    return "none"


def check(total, used, limit):
    if total - used > limit:
        raise ValueError("over the limit")
