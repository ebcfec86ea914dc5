"""Demo programmes: the three standard ones with owners and coordinators, and a few referrals
through the real services (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from cases.models import Case
from partners.actor import actor_for_user
from partners.models import Partner, User
from programmes import services
from programmes.catalogue import install_standard_programmes
from programmes.models import Enrolment, Programme

# slug -> (owner partner slug, coordinator emails)
RUN_BY = {
    "divert": ("northshire-vru", ["coordinator@vru.example"]),
    "invisible-walls": ("northshire-vru", ["coordinator@vru.example"]),
    "street-and-arrow": (
        "street-futures",
        ["coordinator@vru.example", "coach@streetfutures.example"],
    ),
}


def seed_programmes() -> list[str]:
    install_standard_programmes(Programme)
    for slug, (owner, emails) in RUN_BY.items():
        programme = Programme.objects.get(slug=slug)
        if programme.owner_id is None:
            programme.owner = Partner.objects.filter(slug=owner).first()
            programme.save(update_fields=["owner"])
        programme.coordinators.add(*User.objects.filter(email__in=emails))
    referrals = _seed_referrals()
    return [
        "Programmes: DIVERT, Invisible Walls, Street and Arrow "
        f"(coordinator@vru.example runs intake){referrals}."
    ]


def _seed_referrals() -> str:
    if Enrolment.objects.exists():
        return ""
    officer = User.objects.filter(email="officer@police.example").first()
    dsl = User.objects.filter(email="dsl@schools.example").first()
    made = 0
    # Tyler (aged 18-25) met in custody: referred to DIVERT by the officer leading his case.
    tyler = Case.objects.filter(subject__given_name="Tyler", lead_partner__slug="northshire-police")
    if officer and tyler.exists():
        case = tyler.first()
        services.enrolment_create(
            actor=actor_for_user(officer, channel="ui"),
            programme=Programme.objects.get(slug="divert"),
            person=case.subject,
            case=case,
            details={
                "cohort": "custody",
                "custody_suite": "Northshire Central custody suite",
                "approached_at": (timezone.now() - timedelta(hours=3)).isoformat(),
                "coach": "Jay Campbell",
                "approach_outcome": "engaged",
                "pathway": "training",
            },
            priority=2,
        )
        made += 1
    # Leah's father is in prison: the school refers her to Invisible Walls.
    leah = Case.objects.filter(subject__given_name="Leah", lead_partner__slug="riverside-schools")
    if dsl and leah.exists():
        case = leah.first()
        services.enrolment_create(
            actor=actor_for_user(dsl, channel="ui"),
            programme=Programme.objects.get(slug="invisible-walls"),
            person=case.subject,
            case=case,
            details={
                "prison": "HMP Northshire",
                "imprisoned_family_member": {"name": "Daniel Williams", "relationship": "father"},
                "expected_release_date": (timezone.localdate() + timedelta(days=120)).isoformat(),
                "materials_given": [{"title": "What to expect when dad comes home"}],
                "family_sessions": ["prison_visit", "release_preparation"],
            },
        )
        made += 1
    return f"; {made} demo referrals" if made else ""
