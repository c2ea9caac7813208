def stamp(record):
    record.update(created=now())
    return record
