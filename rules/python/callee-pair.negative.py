def fetch_json(session, url):
    return session.get(url).json()
