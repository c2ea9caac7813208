def defaults(retries):
    return {"retries": [3], "delays": [retries]}
