"""The sweeps are django-celery-beat rows (so administrators see and change them), each naming a
registered task, and installing them again changes nothing an administrator set."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from followups.schedule import PERIODIC_TASKS, ensure_schedule
from vru.celery import app

pytestmark = pytest.mark.django_db


def test_the_migration_installed_every_periodic_task():
    rows = {t.name: t for t in PeriodicTask.objects.filter(task__startswith="followups.")}
    assert set(rows) == {p.name for p in PERIODIC_TASKS}
    for item in PERIODIC_TASKS:
        row = rows[item.name]
        assert row.task == item.task
        assert row.enabled
        assert row.interval.every == item.every_seconds
        assert row.interval.period == "seconds"


def test_every_scheduled_task_is_registered():
    app.loader.import_default_modules()
    for item in PERIODIC_TASKS:
        assert item.task in app.tasks, item.task


def test_installing_again_keeps_an_administrators_changes():
    PeriodicTask.objects.filter(name="Case reviews").update(enabled=False)
    assert ensure_schedule() == 0
    assert not PeriodicTask.objects.get(name="Case reviews").enabled
    PeriodicTask.objects.filter(name="Housekeeping").delete()
    assert ensure_schedule() == 1


def test_every_task_runs_on_an_empty_database():
    """Beat may fire any of them at any time: they must cope with nothing to do."""
    for item in PERIODIC_TASKS:
        app.tasks[item.task].apply().get()
