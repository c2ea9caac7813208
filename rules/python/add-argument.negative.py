def build(options):
    if options:
        return make(**options)
    return make(key=None)
