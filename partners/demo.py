"""The demo partnership: a partner of each sector and users of each role (idempotent)."""

from __future__ import annotations

from partners.models import Partner, Role, TraumaTrainingLevel, User
from partners.services import partner_create, user_create

DEMO_PASSWORD = "northshire-demo-2026"

PARTNERS = [
    ("northshire-police", "Northshire Police", "police"),
    ("riverside-schools", "Riverside Schools Trust", "education"),
    ("northshire-homes", "Northshire Homes", "housing"),
    ("northshire-health", "Northshire Health NHS Trust", "health"),
    ("northshire-probation", "Northshire Probation Delivery Unit", "probation"),
    ("northshire-yjs", "Northshire Youth Justice Service", "youth_justice"),
    ("northshire-childrens", "Northshire Children's Services", "social_care"),
    ("northshire-vru", "Northshire Violence Reduction Unit", "vru"),
    ("street-futures", "Street Futures", "voluntary"),
]

# (email, full name, partner slug, role, training level, high-exposure team)
USERS = [
    (
        "officer@police.example",
        "PC Sam Okafor",
        "northshire-police",
        Role.PRACTITIONER,
        "skilled",
        True,
    ),
    (
        "sergeant@police.example",
        "Sgt Priya Shah",
        "northshire-police",
        Role.MANAGER,
        "enhanced",
        True,
    ),
    # A second police manager: managers' own supervision check-ins are signed off by another.
    (
        "inspector@police.example",
        "Insp Dana Cole",
        "northshire-police",
        Role.MANAGER,
        "enhanced",
        False,
    ),
    (
        "dsl@schools.example",
        "Jo Hughes (DSL)",
        "riverside-schools",
        Role.PRACTITIONER,
        "informed",
        False,
    ),
    ("head@schools.example", "Alex Morgan", "riverside-schools", Role.MANAGER, "informed", False),
    ("housing@homes.example", "Chris Evans", "northshire-homes", Role.PRACTITIONER, "aware", False),
    (
        "visitor@health.example",
        "Rhian Davies",
        "northshire-health",
        Role.PRACTITIONER,
        "skilled",
        False,
    ),
    (
        "probation@probation.example",
        "Dev Patel",
        "northshire-probation",
        Role.PRACTITIONER,
        "skilled",
        False,
    ),
    ("yjs@yjs.example", "Kim Lee", "northshire-yjs", Role.PRACTITIONER, "enhanced", False),
    (
        "social@childrens.example",
        "Morgan Price",
        "northshire-childrens",
        Role.PRACTITIONER,
        "enhanced",
        True,
    ),
    (
        "coordinator@vru.example",
        "Nia Roberts",
        "northshire-vru",
        Role.COORDINATOR,
        "specialist",
        False,
    ),
    ("auditor@vru.example", "Tom Baker", "northshire-vru", Role.AUDITOR, "aware", False),
    ("admin@vru.example", "System Administrator", "northshire-vru", Role.ADMIN, "", False),
    (
        "coach@streetfutures.example",
        "Jay Campbell",
        "street-futures",
        Role.PRACTITIONER,
        "skilled",
        False,
    ),
]


def seed_partners() -> list[tuple[str, str, str, str]]:
    """Create what is missing; return (email, name, partner, role) for the logins table."""
    for slug, name, sector in PARTNERS:
        if not Partner.objects.filter(slug=slug).exists():
            partner_create(slug=slug, name=name, sector=sector)
    logins = []
    for email, full_name, slug, role, level, high_exposure in USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = user_create(
                partner=Partner.objects.get(slug=slug),
                role=role,
                email=email,
                password=DEMO_PASSWORD,
                full_name=full_name,
            )
            user.profile.trauma_training_level = level or TraumaTrainingLevel.NONE
            user.profile.high_exposure = high_exposure
            user.profile.save()
        logins.append((email, full_name, slug, str(role)))
    return logins
