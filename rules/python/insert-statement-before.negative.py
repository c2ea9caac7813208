import os


def noop():
    pass
