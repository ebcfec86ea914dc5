"""Information-rights fixtures: Jayden's case is led by the police and shared with the school and
Elsewhere Homes (three partners, each writing its own records); the school also leads a case of
its own about him that the police cannot see."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from django.utils import timezone

from cases import services as case_services
from casework import services as casework_services
from partners.models import Role
from tests import factories
from tests.factories import actor


@pytest.fixture(autouse=True)
def packs_in_tmp(settings, tmp_path):
    settings.SUBJECT_ACCESS_DIR = tmp_path / "packs"
    settings.SUBJECT_ACCESS_NAMES_STAFF = False


@pytest.fixture
def agreement(police, school, outsider_partner, vru):
    """Elsewhere Homes is a party here: the case is shared with it too."""
    return factories.AgreementFactory(parties=[police, school, outsider_partner, vru])


@pytest.fixture
def housing_officer(outsider_partner):
    return factories.make_user(outsider_partner, Role.PRACTITIONER, email="ho@elsewhere.example")


@pytest.fixture
def jayden(officer):
    return factories.PersonFactory(
        by=officer, identifiers=[{"scheme": "local", "value": "POL-778"}]
    )


@pytest.fixture
def sister(officer):
    return factories.PersonFactory(
        by=officer, given_name="Amarachi", family_name="Okafor", date_of_birth=date(2012, 1, 2)
    )


def _entry(user, case, body):
    return casework_services.entry_create(
        actor=actor(user), case=case, kind="contact",
        occurred_at=timezone.now() - timedelta(hours=1), body=body,
    )  # fmt: skip


@pytest.fixture
def police_case(
    officer, teacher, housing_officer, school, outsider_partner, jayden, sister, agreement
):
    case = case_services.case_create(
        actor=actor(officer), subject=jayden, data={"summary": "POLICE-SUMMARY seen with older peers"},
        household=[sister],
    )  # fmt: skip
    for partner in (school, outsider_partner):
        case_services.case_share(
            actor=actor(officer), case=case, partner=partner, lawful_basis="public_task",
            reason="Joint safeguarding",
        )  # fmt: skip
    _entry(officer, case, "POLICE-ENTRY Jayden stopped near the station with Amarachi.")
    _entry(officer, case, "POLICE-PLAIN Jayden attended the interview.")
    _entry(teacher, case, "SCHOOL-ENTRY Jayden absent on Monday.")
    _entry(housing_officer, case, "HOUSING-ENTRY Family asked about a transfer.")
    casework_services.action_create(
        actor=actor(officer), case=case, title="POLICE-ACTION Visit home",
        due_date=timezone.localdate() + timedelta(days=7),
    )  # fmt: skip
    casework_services.action_create(
        actor=actor(teacher), case=case, title="SCHOOL-ACTION Call parent",
        due_date=timezone.localdate() + timedelta(days=7),
    )  # fmt: skip
    casework_services.adversity_create(
        actor=actor(officer), case=case, code="poverty", source="observed",
        note="POLICE-ADVERSITY",
    )  # fmt: skip
    casework_services.adversity_create(
        actor=actor(teacher), case=case, code="poverty", source="observed",
        note="SCHOOL-ADVERSITY",
    )  # fmt: skip
    for who, marker in ((officer, "POLICE-REFERRAL"), (teacher, "SCHOOL-REFERRAL")):
        casework_services.referral_create(
            actor=actor(who), concerns=["missing_episode"], description=marker, subject=jayden,
            case=case,
        )  # fmt: skip
    case_services.consent_record(
        actor=actor(officer), case=case, person=jayden, decision="given",
        lawful_basis="consent", scope="Sharing with school", notes="POLICE-CONSENT",
    )  # fmt: skip
    return case


@pytest.fixture
def school_case(teacher, jayden, police_case):
    """The school's own case about Jayden: not shared with the police."""
    case = case_services.case_create(
        actor=actor(teacher), subject=jayden, data={"summary": "SCHOOL-OWN-CASE attendance"}
    )
    _entry(teacher, case, "SCHOOL-OWN-ENTRY pastoral meeting")
    return case


def pack_files(response) -> tuple[str, dict]:
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert sorted(archive.namelist()) == ["subject-access.html", "subject-access.json"]
        return (
            archive.read("subject-access.html").decode(),
            json.loads(archive.read("subject-access.json")),
        )
