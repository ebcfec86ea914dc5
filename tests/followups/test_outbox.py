"""The outbox: work is written with the change, published after commit, relayed when that fails."""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from followups import outbox
from followups.models import OutboxMessage


def broken_broker(monkeypatch):
    def fail(name, kwargs, message_id):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("followups.outbox._send", fail)


def test_the_signature_is_the_published_one():
    signature = inspect.signature(outbox.enqueue)
    assert list(signature.parameters) == ["task_name", "kwargs"]
    assert signature.parameters["kwargs"].kind is inspect.Parameter.VAR_KEYWORD
    assert signature.return_annotation in (None, "None")


@pytest.mark.django_db
def test_it_publishes_after_commit_and_marks_the_row(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.enqueue("sync.deliver_webhook", delivery_id="d-1")
        assert published == []  # nothing leaves before the commit
    assert published == [("sync.deliver_webhook", {"delivery_id": "d-1"})]
    message = OutboxMessage.objects.get()
    assert message.published_at is not None
    assert message.attempts == 1


@pytest.mark.django_db
def test_a_rollback_takes_the_work_away_too(published, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox.enqueue("sync.deliver_webhook", delivery_id="d-1")
        raise RuntimeError("the request failed")
    assert published == []
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_a_broker_outage_does_not_fail_the_caller_and_keeps_the_row(
    monkeypatch, django_capture_on_commit_callbacks
):
    broken_broker(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.enqueue("sync.deliver_webhook", delivery_id="d-1")
    message = OutboxMessage.objects.get()
    assert message.published_at is None
    assert message.attempts == 1
    assert "Connection refused" in message.last_error


@pytest.mark.django_db
def test_the_relay_publishes_what_was_left_oldest_first(monkeypatch, published):
    old = timezone.now() - timedelta(minutes=5)
    first = OutboxMessage.objects.create(task_name="a", kwargs={"n": 1}, created_at=old)
    second = OutboxMessage.objects.create(task_name="b", kwargs={"n": 2}, created_at=old)
    OutboxMessage.objects.create(task_name="c", kwargs={}, created_at=old, published_at=old)
    fresh = OutboxMessage.objects.create(task_name="d", kwargs={})  # its own publish is under way

    assert outbox.relay() == {"published": 2, "failed": 0}
    assert published == [("a", {"n": 1}), ("b", {"n": 2})]
    assert set(OutboxMessage.objects.filter(published_at__isnull=True)) == {fresh}
    assert outbox.relay() == {"published": 0, "failed": 0}  # nothing twice
    assert first.pk < second.pk


@pytest.mark.django_db
def test_the_relay_stops_at_the_first_failure_and_tries_again_later(monkeypatch, published):
    old = timezone.now() - timedelta(minutes=5)
    for n in range(3):
        OutboxMessage.objects.create(task_name="t", kwargs={"n": n}, created_at=old)
    with monkeypatch.context() as m:
        broken_broker(m)
        assert outbox.relay() == {"published": 0, "failed": 1}
    assert OutboxMessage.objects.filter(published_at__isnull=True).count() == 3
    assert outbox.relay() == {"published": 3, "failed": 0}
    assert [kwargs["n"] for _, kwargs in published] == [0, 1, 2]


@pytest.mark.django_db
def test_publish_never_raises_even_when_marking_fails(monkeypatch):
    message = OutboxMessage.objects.create(task_name="t", kwargs={})
    broken_broker(monkeypatch)

    def database_gone(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr("followups.outbox._mark_failed", database_gone)
    assert outbox.publish(message.pk) is False


@pytest.mark.django_db
def test_backlog_and_prune(published):
    old = timezone.now() - timedelta(days=8)
    OutboxMessage.objects.create(task_name="t", kwargs={}, created_at=old, published_at=old)
    OutboxMessage.objects.create(task_name="t", kwargs={}, created_at=old)
    backlog = outbox.backlog()
    assert backlog["unpublished"] == 1
    assert backlog["oldest_age_seconds"] > 7 * 24 * 3600
    assert outbox.prune() == 1
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_without_a_broker_stub_it_reaches_the_in_memory_test_broker(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue("followups.deliver_due")
    assert OutboxMessage.objects.get().published_at is not None
