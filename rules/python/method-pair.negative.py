def fetch_json(session, url):
    return session.fetch_remote(url).decode_payload()
