"""Adds the share expiry announcement sweep (sync/schedule.py) to the beat schedule of databases
that installed the sync app's periodic tasks before it existed. Creates only missing rows."""

from django.db import migrations

NAME = "Share expiry announcements"


def install(apps, schema_editor):
    from sync.schedule import install_periodic_tasks

    install_periodic_tasks(
        apps.get_model("django_celery_beat", "PeriodicTask"),
        apps.get_model("django_celery_beat", "IntervalSchedule"),
        apps.get_model("django_celery_beat", "PeriodicTasks"),
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0002_periodic_tasks"),
        ("cases", "0002_share_expiry_announced_at"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
