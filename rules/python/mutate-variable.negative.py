import os.path as osp


def ping(host, port=80):
    global TIMEOUT
    return osp.join(sep="/")
