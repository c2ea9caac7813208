def search(queue, goal):
    seen = set()
    while queue:
        node = queue.pop()
        if node == goal:
            return True
        for nxt in node.children:
            if nxt not in seen:
                queue.append(nxt)
    return False
