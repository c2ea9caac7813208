def name_of(user):
    return user.name
