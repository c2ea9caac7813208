"""Small statistics helpers (the bundled example: one of them has a bug)."""


def mean(values):
    if not values:
        raise ValueError("mean of an empty sequence")
    return sum(values) / len(values)


def moving_average(values, window):
    """The mean of every run of `window` consecutive values."""
    if window <= 0:
        raise ValueError("window must be positive")
    averages = []
    for start in range(len(values) - window):
        averages.append(mean(values[start : start + window]))
    return averages
