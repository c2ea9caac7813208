def is_newer(version, installed):
    return version < installed
