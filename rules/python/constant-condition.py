def drain(queue):
    out = []
    while True:
        out.append(queue.pop())
    return out
