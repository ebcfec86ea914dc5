"""The team's wellbeing figures: check-ins on time by month, high-exposure staff with support in
place; counts only, under the small-number rules, for the team's managers only."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from followups import kinds
from followups.models import FollowUp
from followups.sweeps import at_start_of_workday
from partners.models import PractitionerProfile, Role
from tests import factories
from tests.wellbeing.conftest import actor, details
from wellbeing import reports, services

pytestmark = pytest.mark.django_db

MARCH, FEBRUARY = date(2026, 3, 1), date(2026, 2, 1)


def at(day: date, hour: int = 15) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def due(partner, user, resource: str, due_on: date, *, done_on: date | None = None, **extra):
    FollowUp.objects.create(
        kind=kinds.SUPERVISION_CHECK_IN,
        subject_resource=resource,
        subject_id=user.pk,
        due_at=at_start_of_workday(due_on),
        assignee_user=user,
        assignee_partner=partner,
        title="Check-in",
        status="done" if done_on else extra.pop("status", "pending"),
        completed_at=at(done_on) if done_on else None,
        **extra,
    )


def test_on_time_means_signed_off_by_the_deadline(police, school, officer, teacher):
    today = date(2026, 3, 25)
    # Monthly ones: the deadline is the end of their month.
    due(police, officer, "user", FEBRUARY, done_on=date(2026, 3, 2))  # late
    due(police, officer, "user", MARCH, done_on=date(2026, 3, 20))  # on time
    # Agreed ones: the deadline is the day.
    due(police, officer, "supervision_check_in", date(2026, 3, 10), done_on=date(2026, 3, 10))
    due(police, officer, "supervision_check_in", date(2026, 3, 11))  # missed
    due(police, officer, "supervision_check_in", date(2026, 3, 28))  # not due yet
    due(police, officer, "supervision_check_in", date(2026, 3, 5), status="cancelled")
    due(school, teacher, "user", MARCH)  # another partner's
    counts = reports.on_time_counts(partner_id=police.pk, months=[FEBRUARY, MARCH], today=today)
    assert counts == [[0, 1], [2, 1]]


def test_support_in_place(police, officer, sergeant, colleague):
    PractitionerProfile.objects.filter(user__in=[officer, colleague]).update(high_exposure=True)
    check_in = services.check_in_record(actor=actor(sergeant), subject=officer, data=details())
    services.check_in_sign_off(actor=actor(sergeant), check_in=check_in)
    services.check_in_record(actor=actor(colleague), subject=colleague, data=details())  # unsigned
    assert reports.support_counts(partner_id=police.pk) == (1, 1)
    later = timezone.now() + reports.SUPPORT_WINDOW + timedelta(days=1)
    assert reports.support_counts(partner_id=police.pk, now=later) == (0, 2)


def test_the_page_shows_counts_only_suppressed(client, police, officer, sergeant):
    PractitionerProfile.objects.filter(user=officer).update(high_exposure=True)
    client.force_login(sergeant)
    body = client.get("/reports/staff-wellbeing/").content.decode()
    assert "Staff wellbeing" in body
    assert "&lt;10" in body
    assert officer.get_full_name() not in body and officer.email not in body
    [row] = AccessLog.objects.filter(action="view_report", object_id="staff_wellbeing")
    assert row.user == sergeant


def test_figures_at_or_over_the_threshold_are_shown_rounded(client, police, sergeant, settings):
    settings.SUPPRESSION_THRESHOLD = 5
    for n in range(6):
        user = factories.make_user(police, Role.PRACTITIONER, name=f"Officer {n}")
        PractitionerProfile.objects.filter(user=user).update(high_exposure=True)
        check_in = services.check_in_record(actor=actor(sergeant), subject=user, data=details())
        services.check_in_sign_off(actor=actor(sergeant), check_in=check_in)
    figures = reports.team_figures(actor=actor(sergeant))
    assert figures.support[0].count == 5  # 6, rounded to the nearest 5
    assert figures.support[1].kind == "primary"  # 0: under the threshold


@pytest.mark.parametrize("who", ["officer", "auditor", "coordinator", "police_admin"])
def test_only_managers_read_them(who, request, client):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get("/reports/staff-wellbeing/").status_code == 403
    assert AccessLog.objects.filter(
        action="view_report", object_id="staff_wellbeing", allowed=False, user=user
    ).exists()


def test_a_manager_reads_their_own_team_only(police, school, officer, sergeant, school_manager):
    PractitionerProfile.objects.filter(user=officer).update(high_exposure=True)
    assert reports.support_counts(partner_id=police.pk) == (0, 1)
    figures = reports.team_figures(actor=actor(school_manager))
    # The school has nobody on high-exposure work: the officer is not counted there.
    assert reports.support_counts(partner_id=school.pk) == (0, 0)
    assert figures.support_total.kind == "primary"
