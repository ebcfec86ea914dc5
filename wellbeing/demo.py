"""Demo supervision: the police officer's last three check-ins with their sergeant (signed off),
the sergeant's own check-in waiting for another manager, and some trauma training. Idempotent:
nothing is added once the officer has a check-in."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from partners.actor import actor_for_user
from partners.models import User
from wellbeing.models import CheckIn


def seed_wellbeing() -> list[str]:
    from wellbeing import services

    officer = User.objects.filter(email="officer@police.example").first()
    sergeant = User.objects.filter(email="sergeant@police.example").first()
    if officer is None or sergeant is None or CheckIn.objects.filter(subject=officer).exists():
        return []
    today = timezone.localdate()
    as_officer = actor_for_user(officer, channel="system")
    as_sergeant = actor_for_user(sergeant, channel="system")

    for course, level, subject, actor, years in (
        ("ACE TIME", "skilled", officer, as_sergeant, 2),
        ("Trauma-informed practice", "informed", officer, as_officer, 4),
        ("Trauma-enhanced supervision", "enhanced", sergeant, as_sergeant, 1),
    ):
        # The officer's skilled course was two years ago less a month: a refresher is coming.
        services.training_record(
            actor=actor,
            subject=subject,
            data={
                "course": course,
                "level": level,
                "completed_on": today - timedelta(days=365 * years - 30),
            },
        )

    weeks = [13, 9, 4]
    for n, ago in enumerate(weeks):
        held_on = today - timedelta(weeks=ago)
        # Recorded by the sergeant with the officer; the next date as agreed then (in the future
        # only for the latest, which the service checks against today).
        check_in = CheckIn.objects.create(
            subject=officer,
            partner=officer.membership.partner,
            held_on=held_on,
            wellbeing=[3, 2, 4][n],
            wellbeing_notes="Tired after a run of night shifts." if n == 1 else "",
            exposure=["some", "a_lot", "some"][n],
            exposure_kind="Images reviewed for a child exploitation investigation.",
            workload=["stretched", "too_much", "manageable"][n],
            support_offered=[["peer_support"], ["counselling", "peer_support"], ["none_needed"]][n],
            agreed_actions="Two weeks away from image review; book counselling." if n == 1 else "",
            next_check_in_on=today + timedelta(weeks=2)
            if n == len(weeks) - 1
            else held_on + timedelta(weeks=4),
            recorded_by=sergeant,
        )
        if n == len(weeks) - 1:
            services.check_in_sign_off(actor=as_sergeant, check_in=check_in)
        else:
            CheckIn.objects.filter(pk=check_in.pk).update(
                signed_off_by=sergeant,
                signed_off_at=timezone.now() - timedelta(weeks=ago) + timedelta(days=1),
            )
    # The sergeant's own check-in waits for another manager at the police to sign it off.
    services.check_in_record(
        actor=as_sergeant,
        subject=sergeant,
        data={
            "held_on": today,
            "wellbeing": 4,
            "exposure": "none",
            "workload": "stretched",
            "support_offered": ["none_needed"],
            "next_check_in_on": today + timedelta(weeks=4),
        },
    )
    return [
        "Supervision: the officer has three check-ins with the sergeant; the sergeant's own "
        "waits for another police manager (inspector@police.example) to sign it off."
    ]
