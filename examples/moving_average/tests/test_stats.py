import pytest

from stats import mean, moving_average


def test_mean():
    assert mean([1, 2, 3]) == 2


def test_mean_empty():
    with pytest.raises(ValueError):
        mean([])


def test_moving_average_pairs():
    assert moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]


def test_moving_average_whole_window():
    assert moving_average([2, 4], 2) == [3]


def test_moving_average_rejects_zero_window():
    with pytest.raises(ValueError):
        moving_average([1], 0)
