def cell(grid, i, j, k):
    return grid[i, j, k]
