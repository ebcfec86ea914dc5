"""The supervision pages: forms (every error at once, naming the field), recording and signing off
through the web, and lists in a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partners.models import PractitionerProfile, Role
from tests import factories
from tests.wellbeing.conftest import actor, details
from wellbeing import services
from wellbeing.models import CheckIn

pytestmark = pytest.mark.django_db


def date_parts(name: str, day) -> dict:
    return {f"{name}_day": day.day, f"{name}_month": day.month, f"{name}_year": day.year}


def form_data(**overrides) -> dict:
    today = timezone.localdate()
    data = {
        **date_parts("held_on", today),
        "wellbeing": "2",
        "wellbeing_notes": "Tired",
        "exposure": "some",
        "exposure_kind": "Accounts of violence",
        "workload": "too_much",
        "support_offered": ["occupational_health"],
        "agreed_actions": "",
        **date_parts("next_check_in_on", today + timedelta(weeks=3)),
    }
    data.update(overrides)
    return data


def test_a_manager_records_a_check_in_then_signs_it_off(client, officer, sergeant):
    client.force_login(sergeant)
    response = client.post(f"/manager/staff/{officer.pk}/check-ins/new/", form_data())
    check_in = CheckIn.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/supervision/check-ins/{check_in.pk}/"
    assert check_in.subject == officer and check_in.support_offered == ["occupational_health"]
    page = client.get(response["Location"]).content.decode()
    assert "Sign off the check-in" in page
    client.post(f"/supervision/check-ins/{check_in.pk}/sign-off/")
    check_in.refresh_from_db()
    assert check_in.signed_off_by == sergeant


def test_the_subject_sees_no_sign_off_button_on_their_own(client, officer):
    client.force_login(officer)
    client.post("/supervision/new/", form_data())
    check_in = CheckIn.objects.get()
    page = client.get(f"/supervision/check-ins/{check_in.pk}/").content.decode()
    assert "Sign off the check-in" not in page
    assert "You cannot sign off your own check-in" in page
    response = client.post(f"/supervision/check-ins/{check_in.pk}/sign-off/")
    assert response.status_code == 403
    assert "You cannot sign off your own check-in" in response.content.decode()


def test_every_error_at_once_naming_the_field(client, officer):
    client.force_login(officer)
    today = timezone.localdate()
    response = client.post(
        "/supervision/new/",
        {
            **date_parts("held_on", today + timedelta(days=2)),
            "exposure": "a_lot",
            "support_offered": ["none_needed", "counselling"],
            "next_check_in_on_day": "31",
            "next_check_in_on_month": "2",
            "next_check_in_on_year": str(today.year + 1),
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    for message, anchor in (
        ("The date of the check-in must be today or in the past", "#id_held_on_day"),
        ("Select how they are", "#id_wellbeing_0"),
        ("Say what kind of material they have been exposed to", "#id_exposure_kind"),
        ("Select how their workload is", "#id_workload_0"),
        ("Select either the support offered or none needed, not both", "#id_support_offered_0"),
        ("The date of the next check-in must be a real date", "#id_next_check_in_on_day"),
    ):
        assert f'<a href="{anchor}">{message}</a>' in body, message
    assert not CheckIn.objects.exists()


def test_training_is_recorded_on_the_web(client, officer, sergeant):
    client.force_login(sergeant)
    done = timezone.localdate() - timedelta(days=3)
    response = client.post(
        f"/manager/staff/{officer.pk}/training/new/",
        {"course": "ACE TIME", "level": "skilled", **date_parts("completed_on", done)},
    )
    assert response.status_code == 302
    assert officer.training_records.get().level == "skilled"
    bad = client.post(f"/manager/staff/{officer.pk}/training/new/", {"course": ""})
    body = bad.content.decode()
    assert "Enter the name of the course" in body
    assert "Select the level of the National Trauma Training Framework it covers" in body
    assert "Enter the date the course was completed" in body


def _people(police, sergeant, n: int) -> None:
    for _ in range(n):
        user = factories.make_user(police, Role.PRACTITIONER)
        PractitionerProfile.objects.filter(user=user).update(high_exposure=True)
        for _ in range(2):
            services.check_in_record(actor=actor(sergeant), subject=user, data=details())
        services.training_record(
            actor=actor(sergeant),
            subject=user,
            data={"course": "ACE TIME", "level": "skilled", "completed_on": timezone.localdate()},
        )


@pytest.mark.parametrize(
    "path", ["/supervision/", "/manager/staff/", "/follow-ups/", "staff-member"]
)
def test_lists_take_a_constant_number_of_queries(
    path, client, police, officer, sergeant, django_assert_max_num_queries
):
    from followups.sweeps import sweep_supervision_check_ins

    def url():
        if path == "staff-member":
            return f"/manager/staff/{officer.pk}/"
        return path

    def many(n):
        for _ in range(n):
            services.check_in_record(actor=actor(sergeant), subject=officer, data=details())
            services.check_in_record(actor=actor(sergeant), subject=sergeant, data=details())

    client.force_login(sergeant)
    many(1)
    _people(police, sergeant, 1)
    sweep_supervision_check_ins()
    client.get(url())  # warm caches (session, permission ids)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url()).status_code == 200
    many(5)
    _people(police, sergeant, 5)
    sweep_supervision_check_ins()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url()).status_code == 200
