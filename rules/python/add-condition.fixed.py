def drain(queue, limit):
    done = []
    while len(done) < limit and queue:
        done.append(queue.pop())
    return done
