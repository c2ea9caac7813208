def words(line):
    return line.split(" ", 1)
