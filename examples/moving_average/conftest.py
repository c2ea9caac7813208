# Puts this folder on sys.path so the tests can import stats.
