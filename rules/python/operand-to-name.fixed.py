def arrival(times, stop, delay):
    depart = times.get(stop, 0)
    return depart + delay
