def visit(node, graph, seen):
    for nxt in graph[node]:
        if nxt not in seen:
            visit(nxt, graph, seen)
    return seen
