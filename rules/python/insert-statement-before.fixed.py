def visit(node, graph, seen):
    seen.add(node)
    for nxt in graph[node]:
        if nxt not in seen:
            visit(nxt, graph, seen)
    return seen
