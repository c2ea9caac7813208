def common_prefix(a, b):
    if not a or not b or a[0] != b[0]:
        return ""
    return a[0] + common_prefix(a[1:], b)
