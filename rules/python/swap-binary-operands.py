def gap(small, big):
    return small - big
