def fetch_json(session, url):
    return decode(session.get(url))
