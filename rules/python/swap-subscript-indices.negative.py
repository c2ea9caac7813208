def cell(grid, i):
    return grid[i]
