def pop_all(stack):
    out = []
    while stack:
        out.append(stack.pop())
    return out
