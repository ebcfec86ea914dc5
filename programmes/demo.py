def seed_programmes():
    return []
