def seed_followups():
    return []
