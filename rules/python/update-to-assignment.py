def merge_teams(team_of, a, b):
    team_of[a].update(team_of[b])
    for member in team_of[b]:
        team_of[member].update(team_of[a])
