"""Demo cases: a few people and cases across the partnership, shared under the demo agreement."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from cases import services
from cases.models import DataSharingAgreement, LawfulBasis, Person
from partners.actor import actor_for_user
from partners.demo import PARTNERS
from partners.models import Partner, User

AGREEMENT = "Northshire Violence Reduction Partnership information sharing agreement"

PEOPLE = [
    # given, family, preferred, dob, pronouns, nhs
    ("Jayden", "Clarke", "Jay", date(2010, 3, 14), "he/him", "9434765919"),
    ("Amira", "Hassan", "", date(2012, 7, 2), "she/her", "9434765870"),
    ("Tyler", "Brooks", "", date(2004, 11, 20), "he/him", ""),
    ("Leah", "Williams", "", date(2014, 1, 9), "she/her", ""),
]


def seed_cases() -> list[str]:
    if not DataSharingAgreement.objects.filter(name=AGREEMENT).exists():
        services.agreement_create(
            name=AGREEMENT,
            parties=Partner.objects.filter(slug__in=[slug for slug, _, _ in PARTNERS]),
            lawful_basis=LawfulBasis.PUBLIC_TASK,
            condition="DPA 2018 Sch. 1 para 18 (safeguarding of children and individuals at risk); Crime and Disorder Act 1998 s115",
            review_date=timezone.localdate() + timedelta(days=365),
        )
    if Person.objects.filter(created_by_partner__slug="northshire-police").exists():
        return []
    officer = actor_for_user(User.objects.get(email="officer@police.example"))
    dsl = actor_for_user(User.objects.get(email="dsl@schools.example"))
    schools = Partner.objects.get(slug="riverside-schools")
    vru = Partner.objects.get(slug="northshire-vru")
    for index, (given, family, preferred, dob, pronouns, nhs) in enumerate(PEOPLE):
        author = officer if index % 2 == 0 else dsl
        person = services.person_create(
            actor=author,
            data={
                "given_name": given,
                "family_name": family,
                "preferred_name": preferred,
                "date_of_birth": dob,
                "pronouns": pronouns,
            },
            identifiers=[{"scheme": "nhs", "value": nhs}] if nhs else [],
        )
        case = services.case_create(
            actor=author,
            subject=person,
            data={
                "summary": f"Concerns raised about {person.display_name}.",
                "risk_level": "medium",
            },
        )
        other = schools if author is officer else Partner.objects.get(slug="northshire-police")
        services.case_share(
            actor=author,
            case=case,
            partner=other,
            lawful_basis=LawfulBasis.PUBLIC_TASK,
            reason="Joint safeguarding work",
        )
        if index == 2:
            services.case_share(
                actor=author,
                case=case,
                partner=vru,
                lawful_basis=LawfulBasis.PUBLIC_TASK,
                reason="Programme intake",
            )
    return [f"Demo cases: {len(PEOPLE)} people with shared cases; agreement '{AGREEMENT}'."]
