def drain(queue):
    while queue:
        queue.pop()
