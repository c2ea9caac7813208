def path_to(node, parent):
    if parent.get(node) is None:
        return []
    return path_to(parent[node], parent) + [node]
