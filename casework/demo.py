"""Demo case work on the demo cases (cases/demo.py): chronology, adversities, actions and referrals.

Idempotent: it does nothing once the demo police officer has written any chronology entry.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from cases.models import Case, Person
from casework import services
from casework.models import ChronologyEntry
from partners.actor import actor_for_user
from partners.models import Partner, User

# subject's given name → (entries, adversities, action)
WORK = {
    "Jayden": (
        [
            (
                "custody_contact",
                9,
                "case",
                "Seen in custody after a stop with older peers. Calm, "
                "said he wants to get back into football.",
            ),
            (
                "joint_visit",
                5,
                "case",
                "Joint home visit with school DSL. Mum worried about "
                "who Jay spends evenings with; Jay says the park feels unsafe.",
            ),
            ("update", 2, "partner", "Intelligence check requested (police only)."),
        ],
        [("community_violence", "disclosed", False), ("trusted_adult", "observed", False)],
        ("Refer Jay to the DIVERT coach for a follow-up conversation", 7),
    ),
    "Amira": (
        [
            (
                "disclosure",
                6,
                "case",
                "Told her form tutor she does not want to go home at "
                "weekends. Said in her own words: 'it is loud and scary when he shouts'.",
            ),
            (
                "meeting",
                3,
                "case",
                "Safeguarding meeting: school, police. Agreed early help "
                "assessment with Amira's consent.",
            ),
        ],
        [
            ("domestic_violence", "disclosed", True),
            ("bullying", "observed", False),
            ("belonging", "observed", False),
        ],
        ("Offer Amira a weekly check-in with a trusted member of staff", 3),
    ),
    "Tyler": (
        [
            (
                "contact",
                8,
                "case",
                "Phone call with Tyler about the Street and Arrow placement: "
                "keen, asked about the mentor.",
            ),
        ],
        [("gang_involvement", "observed", False), ("purposeful_activity", "disclosed", False)],
        ("Send Tyler's placement application to the VRU", 10),
    ),
    "Leah": (
        [
            (
                "visit",
                4,
                "case",
                "Home visit. Leah's dad is in HMP Northshire; Leah writes to "
                "him every week and wants to visit.",
            ),
        ],
        [
            ("parental_incarceration", "disclosed", False),
            ("parental_separation", "observed", False),
        ],
        ("Ask the VRU about an Invisible Walls place for Leah's family", 14),
    ),
}


def seed_casework() -> list[str]:
    officer_user = User.objects.filter(email="officer@police.example").first()
    if officer_user is None or ChronologyEntry.objects.filter(author=officer_user).exists():
        return []
    now = timezone.now()
    actors = {
        "northshire-police": actor_for_user(officer_user),
        "riverside-schools": actor_for_user(User.objects.get(email="dsl@schools.example")),
    }
    cases = Case.objects.filter(
        lead_partner__slug__in=actors, subject__given_name__in=WORK
    ).select_related("subject", "lead_partner")
    count = 0
    for case in cases:
        actor = actors[case.lead_partner.slug]
        entries, adversities, (action_title, due_in) = WORK[case.subject.given_name]
        for kind, days_ago, visibility, body in entries:
            services.entry_create(
                actor=actor, case=case, kind=kind, occurred_at=now - timedelta(days=days_ago),
                body=body, visibility=visibility,
            )  # fmt: skip
            count += 1
        for code, source, sensitive in adversities:
            services.adversity_create(
                actor=actor, case=case, code=code, source=source, sensitive=sensitive
            )
        services.action_create(
            actor=actor, case=case, title=action_title,
            due_date=timezone.localdate() + timedelta(days=due_in),
        )  # fmt: skip

    police = actors["northshire-police"]
    amira = Person.objects.filter(given_name="Amira", family_name="Hassan").first()
    lines = []
    if amira is not None:
        intake = services.referral_create(
            actor=police,
            subject=amira,
            concerns=["domestic_abuse"],
            description="PPN: officers attended a domestic incident at the family address; "
            "Amira was present.",
            received_at=now - timedelta(days=2),
            source_reference="PPN-2026-0412",
            channel="ui",
        )
        services.referral_screen(
            actor=police,
            referral=intake.referral,
            outcome="early_help",
            reasons="Joint screening with school DSL: early help assessment offered with consent.",
            participants=[Partner.objects.get(slug="riverside-schools")],
            participant_names="PC Sam Okafor, Jo Hughes (DSL)",
        )
        # The school's DSL confirms it: a joint decision, not the police's alone.
        services.referral_screening_answer(
            actor=actors["riverside-schools"],
            referral=intake.referral,
            decision="confirm",
            reason="Agreed at the joint screening: early help assessment, with consent.",
        )
    services.referral_create(
        actor=police,
        person={
            "given_name": "Kai",
            "family_name": "Thompson",
            "date_of_birth": date(2011, 5, 23),
            "pronouns": "he/him",
        },
        concerns=["missing_episode", "child_criminal_exploitation"],
        description="PPN: reported missing overnight, found in another town with older males.",
        urgency="urgent",
        source_reference="PPN-2026-0419",
        channel="ui",
    )
    lines.append(
        f"Demo case work: {count} chronology entries, adversities and actions on "
        f"{len(cases)} cases; 2 police referrals (one screened jointly, one urgent awaiting joint screening)."
    )
    return lines
