"""Demo follow-ups: the periodic schedule, a case review and a supervision check-in. Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from followups import kinds
from followups.schedule import ensure_schedule
from followups.services import followup_create
from followups.sweeps import at_start_of_workday


def seed_followups() -> list[str]:
    ensure_schedule()
    from cases.models import Case
    from partners.models import PractitionerProfile, User

    officer = User.objects.filter(email="officer@police.example").first()
    if officer is None:
        return []
    # A wellbeing check-in for the demo officer, whose work is flagged high-exposure.
    PractitionerProfile.objects.update_or_create(user=officer, defaults={"high_exposure": True})
    today = timezone.localdate()
    case = (
        Case.objects.filter(lead_partner=officer.membership.partner).order_by("reference").first()
    )
    created = 0
    if case is not None:
        followup_create(
            kind=kinds.CASE_REVIEW,
            due_at=at_start_of_workday(today + timedelta(days=3)),
            subject_resource="case",
            subject_id=case.pk,
            title=f"Case review due on {today + timedelta(days=5):%-d %B %Y}",
            case=case,
            assignee_user=officer,
        )
        created += 1
    return [
        "Follow-ups: periodic sweeps scheduled (admin: Periodic tasks); "
        f"{created} demo case review; the officer is on high-exposure work (monthly check-ins)."
    ]
