def transpose_get(grid, row, col):
    return grid[row, col]
