def fail(reason):
    raise ValueError(reason)
