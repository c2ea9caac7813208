def drain(queue, limit):
    done = []
    while len(done) < limit:
        done.append(queue.pop())
    return done
