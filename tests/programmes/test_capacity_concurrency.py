"""Capacity under real concurrency: two coordinators, two threads, two database connections, one
place. Exactly one gets it; the other gets a 409. PostgreSQL only (SQLite serialises writers and
has no row locks, so it cannot show the race)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from core.errors import Conflict
from partners.models import Role
from programmes import access, selectors, services
from programmes.models import Enrolment, EnrolmentStatus, Programme
from tests import factories
from tests.factories import actor

# Skipped at collection on other databases, before a transactional database is set up (and
# flushed afterwards, taking the data migration's rows with it for later tests).
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: row locks and real concurrent transactions",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def slow_count(monkeypatch):
    """Widen the race: hold on after counting places, as a slow server would. Without the lock on
    the programme row both transactions would count the same free place and both would enrol."""
    real = selectors.places_taken

    def slow(programme):
        taken = real(programme)
        time.sleep(0.3)
        return taken

    monkeypatch.setattr(selectors, "places_taken", slow)


@pytest.fixture
def second_coordinator(vru, divert):
    user = factories.make_user(vru, Role.COORDINATOR, email="second@vru.example")
    divert.coordinators.add(user)
    return user


def run_at_once(*calls):
    """Run each call in its own thread (so its own connection), released together."""
    barrier = threading.Barrier(len(calls))
    results: list[str] = []
    lock = threading.Lock()

    def run(call):
        try:
            barrier.wait(timeout=10)
            call()
            outcome = "ok"
        except Conflict as exc:
            outcome = exc.code
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(results)


def visible_to(user, enrolment):
    return (
        access.enrolments_visible_to(actor(user)).select_related("programme").get(pk=enrolment.pk)
    )


def test_two_coordinators_enrolling_into_the_last_place(
    divert, coordinator, second_coordinator, make_case, checked, slow_count
):
    Programme.objects.filter(pk=divert.pk).update(capacity=1)
    first = visible_to(coordinator, checked(divert, make_case(given_name="One")))
    second = visible_to(second_coordinator, checked(divert, make_case(given_name="Two")))

    results = run_at_once(
        lambda: services.enrolment_transition(
            actor=actor(coordinator), enrolment=first, to="enrolled"
        ),
        lambda: services.enrolment_transition(
            actor=actor(second_coordinator), enrolment=second, to="enrolled"
        ),
    )

    assert results == ["capacity_full", "ok"]
    assert Enrolment.objects.filter(status=EnrolmentStatus.ENROLLED).count() == 1
    assert Enrolment.objects.filter(status=EnrolmentStatus.ELIGIBILITY_CHECKED).count() == 1


def test_two_coordinators_offering_the_last_place_to_the_waiting_list(
    divert, coordinator, second_coordinator, make_case, checked, move, slow_count
):
    Programme.objects.filter(pk=divert.pk).update(capacity=1)
    for name in ("One", "Two"):
        move(checked(divert, make_case(given_name=name)), "waitlisted")

    results = run_at_once(
        lambda: services.programme_offer_next(actor=actor(coordinator), programme=divert),
        lambda: services.programme_offer_next(actor=actor(second_coordinator), programme=divert),
    )

    assert results == ["capacity_full", "ok"]
    assert Enrolment.objects.filter(status=EnrolmentStatus.OFFERED).count() == 1
    assert Enrolment.objects.filter(status=EnrolmentStatus.WAITLISTED).count() == 1


def test_the_same_referral_twice_at_once_makes_one_enrolment(divert, officer, sergeant, case):
    def refer(user):
        return lambda: services.enrolment_create(
            actor=actor(user),
            programme=divert,
            person=case.subject,
            case=case,
            details={"cohort": "ae"},
        )

    assert run_at_once(refer(officer), refer(sergeant)) == ["already_referred", "ok"]
    assert Enrolment.objects.count() == 1
