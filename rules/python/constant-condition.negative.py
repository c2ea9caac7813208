def drain(queue, limit):
    n = 0
    while n < limit and queue:
        queue.pop()
        n += 1
    return n
