"""One enrolment, one set of follow-ups: enrolling schedules each (kind, due time) once, and
nothing that repeats the enrolling (a retried request, an idempotent replay, a second submit, the
schedule run again, two workers at once) adds another. Each repeating follow-up says which of the
series it is, so a list of them never reads as one follow-up made several times."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from django.db import connection
from django.utils import timezone

from followups.models import FollowUp
from programmes import services
from programmes.models import Enrolment

pytestmark = pytest.mark.django_db


def followups_of(enrolment):
    return FollowUp.objects.filter(subject_resource="enrolment", subject_id=enrolment.pk)


def enrol(client, enrolment, key="enrol-1"):
    return client.post(
        f"/api/v1/enrolments/{enrolment.pk}/transitions",
        {"to": "enrolled"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_repeating_what_enrols_adds_nothing(api, coordinator, divert, checked, client):
    enrolment = checked(divert)
    form_version = enrolment.version  # the enrolment page as it was before enrolling
    api_client = api(coordinator)
    assert enrol(api_client, enrolment).status_code == 200
    first = sorted(followups_of(enrolment).values_list("kind", "due_at", "title"))
    assert len(first) == 7
    # The same request again (a client retrying with its key): replayed, nothing written.
    assert enrol(api_client, enrolment).status_code == 200
    # A new attempt at the same move: refused, nothing written.
    assert enrol(api_client, enrolment, key="enrol-2").status_code == 409
    # The enrolment page's form, sent again from a tab opened before enrolling.
    client.force_login(coordinator)
    response = client.post(
        f"/enrolments/{enrolment.pk}/", {"to": "enrolled", "version": form_version}
    )
    assert response.status_code == 200  # shown again with an error, nothing saved
    # The schedule run again, as a retried task or a later repair would.
    enrolment = Enrolment.objects.get(pk=enrolment.pk)
    for _ in range(3):
        services.schedule_followups(
            programme=divert, enrolment=enrolment, enrolled_at=enrolment.enrolled_at
        )
    again = sorted(followups_of(enrolment).values_list("kind", "due_at", "title"))
    assert again == first


def test_each_follow_up_of_a_series_says_which_it_is(divert, checked, move):
    enrolment = move(checked(divert), "enrolled")
    titles = list(followups_of(enrolment).order_by("due_at").values_list("title", flat=True))
    assert titles == [
        "DIVERT check-in: first week",
        *(f"DIVERT check-in ({n} of 6)" for n in range(1, 7)),
    ]
    assert len(set(titles)) == len(titles)
    keys = list(followups_of(enrolment).values_list("kind", "due_at"))
    assert len(set(keys)) == len(keys) == 7


def test_a_series_partly_past_keeps_its_numbers(invisible_walls, refer, make_case, move, police,
                                                 officer, vru):  # fmt: skip
    from datetime import timedelta

    from tests.programmes.conftest import share, years_ago
    from tests.programmes.test_eligibility import record_adversity

    case = make_case(dob=years_ago(10))
    record_adversity(case, "parental_incarceration", police)
    share(case, vru, officer)
    release = timezone.localdate() + timedelta(weeks=10)
    details = {
        "prison": "HMP Northshire",
        "imprisoned_family_member": {"name": "Dan", "relationship": "father"},
        "expected_release_date": release.isoformat(),
    }
    enrolment = move(move(refer(invisible_walls, case, details), "eligibility_checked"), "enrolled")
    titles = sorted(
        followups_of(enrolment)
        .filter(kind="invisible_walls_release_preparation")
        .values_list("title", flat=True)
    )
    # 12 weeks before release has gone: the 2nd and 3rd of three are still to come.
    assert titles == [
        "Invisible Walls: prepare the family for release (2 of 3)",
        "Invisible Walls: prepare the family for release (3 of 3)",
    ]


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_two_workers_scheduling_at_once_make_one_set(divert, checked, move):
    enrolment = move(checked(divert), "enrolled")
    FollowUp.objects.filter(subject_id=enrolment.pk).delete()
    enrolment = Enrolment.objects.get(pk=enrolment.pk)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def schedule():
        from django.db import connection as own

        try:
            barrier.wait()
            services.schedule_followups(
                programme=divert, enrolment=enrolment, enrolled_at=enrolment.enrolled_at
            )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=schedule) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert followups_of(enrolment).count() == 7
    assert isinstance(enrolment.enrolled_at, datetime)
