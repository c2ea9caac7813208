def gap(small, big):
    return big - small
