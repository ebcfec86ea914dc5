"""The enrolment page for coordinators: sessions and attendance, milestones, outcome at exit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from programmes import access, services
from programmes.models import Enrolment, EnrolmentSession, Milestone
from tests.factories import ui_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled(officer, coordinator, young_case, divert):
    e = services.enrolment_create(
        actor=ui_actor(officer), programme=divert, person=young_case.subject, case=young_case,
        details={"cohort": "care_leaver"},
    )  # fmt: skip
    for to in ("eligibility_checked", "enrolled"):
        e = _move(coordinator, e, to)
    return e


def _move(coordinator, enrolment, to):
    actor = ui_actor(coordinator)
    enrolment = access.enrolment_get_for(actor, enrolment.pk, log_as=None)
    return services.enrolment_transition(actor=actor, enrolment=enrolment, to=to)


def _session(day, **extra):
    return {
        "session-kind": "coaching", "session-occurred_on_day": day.day,
        "session-occurred_on_month": day.month, "session-occurred_on_year": day.year,
        "session-occurred_time": "15:00", "session-attendance": "attended",
        "session-notes": "Worked on a CV", **extra,
    }  # fmt: skip


class TestSessionsAndMilestones:
    def test_the_coordinator_records_a_session_and_a_milestone(
        self, login, coordinator, officer, enrolled
    ):
        c = login(coordinator)
        page = c.get(f"/enrolments/{enrolled.pk}/").content.decode()
        assert "Record a session" in page and "Record a milestone" in page
        yesterday = timezone.localdate() - timedelta(days=1)
        response = c.post(f"/enrolments/{enrolled.pk}/sessions/new/", _session(yesterday))
        assert response.status_code == 302
        session = EnrolmentSession.objects.get()
        assert session.attendance == "attended" and session.recorded_by == coordinator
        response = c.post(f"/enrolments/{enrolled.pk}/milestones/new/", {
            "milestone-code": "cv_completed", "milestone-achieved_on_day": yesterday.day,
            "milestone-achieved_on_month": yesterday.month,
            "milestone-achieved_on_year": yesterday.year,
        })  # fmt: skip
        assert response.status_code == 302 and Milestone.objects.get().code == "cv_completed"
        # The case worker sees them (read-only); both reads are logged.
        page = login(officer).get(f"/enrolments/{enrolled.pk}/").content.decode()
        assert "Coaching session" in page and "Attended" in page and "CV completed" in page
        assert "Record a session" not in page
        assert AccessLog.objects.filter(user=officer, action="list", object_type="milestone")
        assert AccessLog.objects.filter(user=coordinator, action="create", object_type="milestone")

    def test_errors_are_shown_on_the_enrolment_page(self, login, coordinator, enrolled):
        tomorrow = timezone.localdate() + timedelta(days=1)
        body = (
            login(coordinator)
            .post(
                f"/enrolments/{enrolled.pk}/sessions/new/",
                _session(tomorrow, **{"session-attendance": ""}),
            )
            .content.decode()
        )
        assert "There is a problem" in body and 'href="#id_session-attendance_0"' in body
        assert "must be today or in the past" in body
        assert not EnrolmentSession.objects.exists()

    def test_only_coordinators_record_and_outsiders_find_nothing(
        self, login, officer, outsider, enrolled
    ):
        day = timezone.localdate()
        assert (
            login(officer)
            .post(f"/enrolments/{enrolled.pk}/sessions/new/", _session(day))
            .status_code
            == 403
        )
        assert AccessLog.objects.filter(user=officer, action="add_session", allowed=False)
        assert (
            login(outsider)
            .post(f"/enrolments/{enrolled.pk}/milestones/new/", {"milestone-code": "cv_completed"})
            .status_code
            == 404
        )
        assert not EnrolmentSession.objects.exists() and not Milestone.objects.exists()

    def test_exit_outcome_with_notes_and_a_stale_move(self, login, coordinator, enrolled):
        c = login(coordinator)
        e = _move(coordinator, enrolled, "active")
        stale = c.post(f"/enrolments/{e.pk}/", {"to": "completed", "version": e.version - 1})
        assert "Someone else moved this referral on" in stale.content.decode()
        response = c.post(f"/enrolments/{e.pk}/", {
            "to": "completed", "version": e.version, "outcome": "in_employment",
            "outcome_notes": "Started at the garage on Monday",
        })  # fmt: skip
        assert response.status_code == 302
        e = Enrolment.objects.get()
        assert e.status == "completed" and e.outcome == "in_employment"
        page = c.get(f"/enrolments/{e.pk}/").content.decode()
        assert "In employment at exit" in page and "Started at the garage" in page
