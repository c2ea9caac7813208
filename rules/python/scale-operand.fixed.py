def side_error(area, side):
    return abs(area - side ** 2)
