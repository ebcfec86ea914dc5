def seed_casework():
    return []
