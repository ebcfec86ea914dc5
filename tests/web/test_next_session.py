"""A coach books the next session with the person; it is on their caseload and the enrolment
page, and recording that day's session clears it. Key workers record their own sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from core.errors import Forbidden, ValidationFailed
from programmes import services
from programmes.models import Enrolment
from tests.web.conftest import ui_actor

pytestmark = pytest.mark.django_db


def _booking(when):
    local = timezone.localtime(when)
    return {
        "booking-kind": "coaching", "booking-at_day": local.day, "booking-at_month": local.month,
        "booking-at_year": local.year, "booking-at_hour": f"{local.hour:02d}",
        "booking-at_minute": f"{local.minute:02d}",
    }  # fmt: skip


def test_the_key_worker_books_the_next_session_and_sees_it_on_their_caseload(
    login, mentor, enrolment
):
    when = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    c = login(mentor)
    response = c.post(f"/enrolments/{enrolment.pk}/next-session/", _booking(when))
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.next_session_at == when and enrolment.next_session_kind == "coaching"
    local = timezone.localtime(when)
    assert f"{local:%a %-d %b, %H:%M}" in c.get("/").content.decode()
    page = c.get(f"/enrolments/{enrolment.pk}/").content.decode()
    assert f"Next session: <strong>{local:%A %-d %B %Y, %H:%M}</strong> (coaching session)" in page
    assert AccessLog.objects.filter(
        user=mentor, action="book_session", object_id=str(enrolment.pk)
    ).exists()


def test_recording_that_days_session_clears_the_booking(mentor, enrolment):
    when = timezone.now() + timedelta(hours=2)
    services.session_book(actor=ui_actor(mentor), enrolment=enrolment, at=when, kind="coaching")
    # The key worker records the session themselves (not only the coordinators).
    services.session_create(
        actor=ui_actor(mentor), enrolment=enrolment, kind="coaching", occurred_at=when,
        attendance="attended",
    )  # fmt: skip
    enrolment.refresh_from_db()
    assert enrolment.next_session_at is None and enrolment.next_session_kind == ""


def test_a_booking_in_the_past_is_refused_naming_the_field(login, mentor, enrolment):
    with pytest.raises(ValidationFailed, match="must be in the future"):
        services.session_book(
            actor=ui_actor(mentor), enrolment=enrolment, at=timezone.now() - timedelta(hours=1),
            kind="coaching",
        )  # fmt: skip
    body = (
        login(mentor)
        .post(
            f"/enrolments/{enrolment.pk}/next-session/",
            {"booking-kind": "coaching", "booking-at_day": "3"},
        )
        .content.decode()
    )
    assert "The time of the next session must include a month" in body


def test_only_coordinators_and_the_key_worker_book_it(
    login, officer, teacher, outsider, coordinator, enrolment
):
    when = timezone.now() + timedelta(days=2)
    url = f"/enrolments/{enrolment.pk}/next-session/"
    assert login(officer).post(url, _booking(when)).status_code == 403
    assert login(outsider).post(url, _booking(when)).status_code == 404
    with pytest.raises(Forbidden):
        fresh = Enrolment.objects.get(pk=enrolment.pk)  # not the coordinator's annotated copy
        services.session_book(actor=ui_actor(officer), enrolment=fresh, at=when, kind="coaching")
    assert Enrolment.objects.get(pk=enrolment.pk).next_session_at is None
    assert login(coordinator).post(url, _booking(when)).status_code == 302
    assert Enrolment.objects.get(pk=enrolment.pk).next_session_at is not None
    # Cancelled with one button.
    assert login(coordinator).post(url, {"cancel": "1"}).status_code == 302
    assert Enrolment.objects.get(pk=enrolment.pk).next_session_at is None
