def is_newer(version, installed):
    return installed < version
