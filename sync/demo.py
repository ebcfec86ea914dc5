def seed_sync():
    return []
