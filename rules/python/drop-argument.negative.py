def stamp():
    return now()
