def remaining(total, used, reserved):
    return report(total, used - reserved)


def report(total, left):
    return f"{left} of {total}"
