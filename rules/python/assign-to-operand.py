def relax(best_by_node, best_by_pair, u, v, cost):
    best_by_pair[u, v] = min(best_by_node[u] + cost, best_by_node[v])
