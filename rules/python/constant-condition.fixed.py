def drain(queue):
    out = []
    while queue:
        out.append(queue.pop())
    return out
