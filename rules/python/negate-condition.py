def pop_all(stack):
    out = []
    while not stack:
        out.append(stack.pop())
    return out
