class Node:
    def __init__(self, left, right):
        self.left = left
        self.right = right


def rightmost(node):
    while node.right is not None:
        node = node.right
    return node
