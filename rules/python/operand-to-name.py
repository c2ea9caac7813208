def arrival(times, stop, delay):
    depart = times.get(stop, 0)
    return times.get(stop, 0) + delay
