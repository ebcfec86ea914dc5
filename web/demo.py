def seed_web():
    return []
