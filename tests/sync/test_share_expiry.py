"""A share that lapses by time is announced in the change feed (`revoked`, then `person revoked`)
to the partner that lost the case, exactly once, by an idempotent periodic sweep."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from cases import services as case_services
from cases.models import CaseGroupObjectPermission, Share
from core.models import Change
from sync.schedule import PERIODIC_TASKS
from tests.conftest import postgres_only
from tests.factories import actor as as_actor
from tests.sync.test_changes_feed import ids, read_all
from vru.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_until(officer, agreement):
    """share(case, partner) for an hour, as the lead's officer."""

    def share(case, partner):
        return case_services.case_share(
            actor=as_actor(officer),
            case=case,
            partner=partner,
            lawful_basis="public_task",
            reason="Joint safeguarding, for the strategy meeting",
            expires_at=timezone.now() + timedelta(hours=1),
        )

    return share


def lapse(share):
    """As if the share's hour had passed: the share and its permission end in the past."""
    past = timezone.now() - timedelta(minutes=1)
    Share.objects.filter(pk=share.pk).update(expires_at=past)
    CaseGroupObjectPermission.objects.filter(
        group_id=share.partner.group_id, content_object_id=share.case_id
    ).update(expires_at=past)


def revoked_rows(case, partner):
    return Change.objects.filter(
        resource="case", object_id=case.pk, action="revoked", audience_partner=partner
    )


class TestShareExpiry:
    def test_the_partner_that_lost_the_case_is_told_once_even_if_the_sweep_runs_twice(
        self, api, school, school_system, make_case, shared_until
    ):
        case = make_case()
        share = shared_until(case, school)
        client = api(school_system)
        items, cursor = read_all(client)
        assert ("case", str(case.pk), "updated") in ids(items)
        lapse(share)
        assert case_services.share_expiry_announce() == 1
        assert case_services.share_expiry_announce() == 0
        items, cursor = read_all(client, cursor)
        assert ids(items) == [
            ("case", str(case.pk), "revoked"),
            ("person", str(case.subject_id), "revoked"),
        ]
        assert revoked_rows(case, school).count() == 1
        assert case_services.share_expiry_announce() == 0
        assert read_all(client, cursor)[0] == []
        assert Share.objects.get(pk=share.pk).expiry_announced_at is not None

    def test_the_lead_is_told_nothing_and_a_live_share_is_left_alone(
        self, api, officer, school, vru, make_case, shared_until
    ):
        lapsed, live = make_case(), make_case()
        lapse(shared_until(lapsed, school))
        shared_until(live, vru)
        assert case_services.share_expiry_announce() == 1
        assert not revoked_rows(live, vru).exists()
        assert "revoked" not in {i["action"] for i in read_all(api(officer))[0]}

    def test_a_revoked_share_is_announced_by_its_revocation_only(
        self, officer, school, make_case, shared_until
    ):
        case = make_case()
        share = shared_until(case, school)
        case_services.share_revoke(actor=as_actor(officer), case=case, partner=school)
        lapse(share)
        assert case_services.share_expiry_announce() == 0
        assert revoked_rows(case, school).count() == 1

    def test_revoking_a_lapsed_share_already_announced_says_nothing_twice(
        self, officer, school, make_case, shared_until
    ):
        case = make_case()
        lapse(shared_until(case, school))
        assert case_services.share_expiry_announce() == 1
        case_services.share_revoke(actor=as_actor(officer), case=case, partner=school)
        assert revoked_rows(case, school).count() == 1

    def test_a_share_renewed_before_the_sweep_is_not_announced(
        self, school, make_case, shared_until
    ):
        case = make_case()
        lapse(shared_until(case, school))
        shared_until(case, school)  # the lead shares again: the lapsed share is replaced
        assert case_services.share_expiry_announce() == 0
        assert not revoked_rows(case, school).exists()

    def test_the_subject_is_kept_while_another_share_shows_them(
        self, api, school, school_system, make_case, make_person, shared_until, share_with
    ):
        subject = make_person()
        lapsing, lasting = make_case(subject=subject), make_case(subject=subject)
        share = shared_until(lapsing, school)
        share_with(lasting, school)
        client = api(school_system)
        _, cursor = read_all(client)
        lapse(share)
        case_services.share_expiry_announce()
        items, _ = read_all(client, cursor)
        assert ids(items) == [("case", str(lapsing.pk), "revoked")]


class TestSchedule:
    def test_the_sweep_is_a_registered_beat_task(self):
        item = next(p for p in PERIODIC_TASKS if p.task == "sync.share_expiry_announce")
        row = PeriodicTask.objects.get(name=item.name)
        assert (row.task, row.enabled, row.interval.every) == (item.task, True, item.every_seconds)
        app.loader.import_default_modules()
        assert item.task in app.tasks

    def test_the_task_runs(self, school, make_case, shared_until):
        lapse(shared_until(make_case(), school))
        assert app.tasks["sync.share_expiry_announce"].apply().get() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_announce_once(school, make_case, shared_until):
    case = make_case()
    lapse(shared_until(case, school))
    start = threading.Barrier(2)
    counts = []

    def sweep():
        try:
            start.wait(10)
            counts.append(case_services.share_expiry_announce())
        finally:
            connection.close()

    workers = [threading.Thread(target=sweep) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(counts) == [0, 1]
    assert revoked_rows(case, school).count() == 1
