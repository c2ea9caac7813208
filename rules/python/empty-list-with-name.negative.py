def defaults():
    return {"retries": [3]}
