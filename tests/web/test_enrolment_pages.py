"""Enrolment pages read as a person would write: dates in words, names as typed, family members by
name and relationship, lists as lists; never raw JSON, ISO timestamps or lower-cased names."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from programmes import services
from programmes.catalogue import DIVERT, INVISIBLE_WALLS
from tests.factories import ui_actor
from web.intake_forms import details_shown

pytestmark = pytest.mark.django_db


def body_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


class TestDetailsShown:
    def test_divert_details(self, settings):
        settings.TIME_ZONE = "Europe/London"
        shown = dict(
            details_shown(
                DIVERT["intake_schema"],
                {
                    "cohort": "custody",
                    "custody_suite": "Northshire Central custody suite",
                    "approached_at": "2026-11-29T21:40:00+00:00",
                    "coach": "Jay McDonald-Campbell",
                    "approach_outcome": "not_suitable",
                },
            )
        )
        assert shown == {
            "Cohort": "In police custody",
            "Custody suite": "Northshire Central custody suite",
            "Approach time": "29 November 2026, 21:40",
            "Coach": "Jay McDonald-Campbell",
            "Outcome of the approach": "Not suitable",
        }

    def test_local_time_in_summer(self, settings):
        settings.TIME_ZONE = "Europe/London"
        shown = dict(
            details_shown(DIVERT["intake_schema"], {"arrested_at": "2026-07-01T21:40:00+00:00"})
        )
        assert shown == {"Arrest time": "1 July 2026, 22:40"}

    def test_invisible_walls_details(self):
        shown = dict(
            details_shown(
                INVISIBLE_WALLS["intake_schema"],
                {
                    "prison": "HMP Northshire",
                    "imprisoned_family_member": {"name": "Daniel Williams", "relationship": "father"},
                    "expected_release_date": "2027-03-04",
                    "children": [
                        {"name": "Leah Williams", "date_of_birth": "2014-05-02", "school": "Riverside"},
                        {"name": "Kai Williams"},
                    ],
                    "materials_given": [
                        {"title": "What to expect when dad comes home", "given_on": "2026-11-02"}
                    ],
                    "family_sessions": ["prison_visit", "release_preparation"],
                },
            )
        )  # fmt: skip
        assert shown == {
            "Prison": "HMP Northshire",
            "Imprisoned family member": "Daniel Williams, father",
            "Expected release date": "4 March 2027",
            "Children in the family": [
                "Leah Williams, date of birth 2 May 2014, school Riverside",
                "Kai Williams",
            ],
            "Materials given": ["What to expect when dad comes home, given on 2 November 2026"],
            "Family sessions wanted": ["Prison visit", "Release preparation"],
        }

    def test_a_field_the_schema_no_longer_has_is_still_readable(self):
        shown = dict(details_shown({}, {"old_field": {"name": "Sam"}, "notes": ["a", "b"]}))
        assert shown == {"Old field": "Sam", "Notes": ["a", "b"]}


@pytest.fixture
def invisible_walls(coordinator):
    from programmes.catalogue import install_standard_programmes
    from programmes.models import Programme

    install_standard_programmes(Programme)
    programme = Programme.objects.get(slug="invisible-walls")
    programme.coordinators.set([coordinator])
    return programme


class TestEnrolmentPage:
    def test_the_divert_enrolment_page(self, login, officer, coordinator, young_case, divert):
        approached = datetime(2026, 11, 29, 21, 40, tzinfo=UTC)
        enrolment = services.enrolment_create(
            actor=ui_actor(officer), programme=divert, person=young_case.subject,
            case=young_case,
            details={
                "cohort": "custody", "custody_suite": "Northshire Central",
                "approached_at": approached.isoformat(), "coach": "Jay Campbell",
            },
        )  # fmt: skip
        for user in (coordinator, officer):
            text = body_text(login(user).get(f"/enrolments/{enrolment.pk}/"))
            local = timezone.localtime(approached)
            assert f"Approach time {local:%-d %B %Y, %H:%M}" in text
            assert "Custody suite Northshire Central" in text and "Coach Jay Campbell" in text
            assert "In police custody" in text
            assert "2026-11-29" not in text and "t21:40" not in text.lower()
            assert "Northshire central" not in text and "Jay campbell" not in text
            assert AccessLog.objects.filter(
                user=user, object_type="enrolment", object_id=str(enrolment.pk)
            ).exists()

    def test_the_invisible_walls_enrolment_page(
        self, login, teacher, coordinator, invisible_walls, case
    ):
        release = timezone.localdate() + timedelta(days=120)
        enrolment = services.enrolment_create(
            actor=ui_actor(teacher), programme=invisible_walls, person=case.subject, case=case,
            details={
                "prison": "HMP Northshire",
                "imprisoned_family_member": {"name": "Daniel Williams", "relationship": "father"},
                "expected_release_date": release.isoformat(),
                "materials_given": [{"title": "What to expect when dad comes home"}],
                "family_sessions": ["prison_visit", "release_preparation"],
            },
        )  # fmt: skip
        response = login(coordinator).get(f"/enrolments/{enrolment.pk}/")
        text = body_text(response)
        assert "Imprisoned family member Daniel Williams, father" in text
        assert f"Expected release date {release:%-d %B %Y}" in text
        assert "Prison visit" in text and "Release preparation" in text
        assert "What to expect when dad comes home" in text
        html = response.content.decode()
        for raw in ("{&#x27;", "[&#x27;", "{'", "['", release.isoformat()):
            assert raw not in html, raw
        assert "prison_visit" not in text

    def test_nothing_of_it_for_another_partner(self, login, outsider, officer, young_case, divert):
        enrolment = services.enrolment_create(
            actor=ui_actor(officer), programme=divert, person=young_case.subject,
            case=young_case, details={"cohort": "custody", "custody_suite": "Northshire Central",
                                      "approached_at": timezone.now().isoformat()},
        )  # fmt: skip
        response = login(outsider).get(f"/enrolments/{enrolment.pk}/")
        assert response.status_code == 404
        assert "Northshire Central" not in response.content.decode()
        assert AccessLog.objects.filter(user=outsider, allowed=False).exists()
