"""A missed session says why: required with `missed`, refused with anything else, in the API and
on the enrolment page; the reason stays with the session, never in the access log."""

from __future__ import annotations

import pytest

from audit.models import AccessLog
from programmes.models import EnrolmentSession

pytestmark = pytest.mark.django_db

SESSION = {"kind": "coaching", "occurred_at": "2026-03-02T10:00:00Z", "attendance": "missed"}


@pytest.fixture
def enrolled(divert, checked, move):
    return move(checked(divert), "enrolled")


def url(enrolment):
    return f"/api/v1/enrolments/{enrolment.pk}/sessions"


class TestApi:
    def test_missed_needs_a_reason(self, api, coordinator, enrolled):
        for body in (SESSION, {**SESSION, "missed_reason": "   "}):
            response = api(coordinator).post(url(enrolled), body, format="json")
            assert response.status_code == 400
            assert response.json()["error"]["fields"] == {"missed_reason": ["required when missed"]}
        assert not EnrolmentSession.objects.exists()

    def test_the_reason_is_kept_and_shown(self, api, coordinator, enrolled):
        client = api(coordinator)
        response = client.post(
            url(enrolled), {**SESSION, "missed_reason": "No credit on their phone"}, format="json"
        )
        assert response.status_code == 201
        assert response.json()["missed_reason"] == "No credit on their phone"
        listed = client.get(url(enrolled)).json()["results"]
        assert listed[0]["missed_reason"] == "No credit on their phone"
        # The access log says a session was recorded, never why it was missed.
        for row in AccessLog.objects.filter(object_type="enrolment_session"):
            assert "credit" not in str(row.detail) and "credit" not in row.justification

    def test_only_a_missed_session_has_a_reason(self, api, coordinator, enrolled):
        response = api(coordinator).post(
            url(enrolled),
            {**SESSION, "attendance": "attended", "missed_reason": "Unwell"},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"missed_reason": ["only when missed"]}

    def test_others_learn_nothing(self, api, officer, outsider, enrolled):
        body = {**SESSION, "missed_reason": "Unwell"}
        assert api(officer).post(url(enrolled), body, format="json").status_code == 403
        response = api(outsider).post(url(enrolled), body, format="json")
        assert response.status_code == 404
        assert "Unwell" not in response.content.decode()
        assert not EnrolmentSession.objects.exists()


def form(attendance: str, **extra) -> dict:
    return {
        "session-kind": "coaching", "session-occurred_on_day": "2",
        "session-occurred_on_month": "3", "session-occurred_on_year": "2026",
        "session-occurred_time": "10:00", "session-attendance": attendance, **extra,
    }  # fmt: skip


class TestWeb:
    def test_the_page_asks_why(self, client, coordinator, officer, enrolled):
        client.force_login(coordinator)
        page = client.get(f"/enrolments/{enrolled.pk}/").content.decode()
        assert "If they missed it, why?" in page
        response = client.post(f"/enrolments/{enrolled.pk}/sessions/new/", form("missed"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "There is a problem" in body and "Say why they missed the session" in body
        assert 'href="#id_session-missed_reason"' in body
        assert not EnrolmentSession.objects.exists()
        response = client.post(
            f"/enrolments/{enrolled.pk}/sessions/new/",
            form("missed", **{"session-missed_reason": "Had a job interview"}),
        )
        assert response.status_code == 302
        assert EnrolmentSession.objects.get().missed_reason == "Had a job interview"
        # The practitioner on the case sees why, on the enrolment page.
        client.force_login(officer)
        assert "Had a job interview" in client.get(f"/enrolments/{enrolled.pk}/").content.decode()

    def test_a_reason_typed_before_choosing_attended_is_not_kept(
        self, client, coordinator, enrolled
    ):
        client.force_login(coordinator)
        response = client.post(
            f"/enrolments/{enrolled.pk}/sessions/new/",
            form("attended", **{"session-missed_reason": "Unwell"}),
        )
        assert response.status_code == 302
        assert EnrolmentSession.objects.get().missed_reason == ""
