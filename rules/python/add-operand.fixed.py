def with_headers(rows, headers):
    body = [list(r) for r in rows]
    return headers + [[str(c) for c in r] for r in body]
