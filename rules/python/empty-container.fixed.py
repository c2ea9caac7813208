def options(verbose):
    extra = {}
    if verbose:
        extra["verbose"] = True
    return extra
