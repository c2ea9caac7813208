def config(options):
    return options["path"], options[1:]
