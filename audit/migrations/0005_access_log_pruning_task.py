"""Creates the django-celery-beat row for the access log's pruning (audit/schedule.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from audit.schedule import install_periodic_tasks

    install_periodic_tasks(
        apps.get_model("django_celery_beat", "PeriodicTask"),
        apps.get_model("django_celery_beat", "IntervalSchedule"),
        apps.get_model("django_celery_beat", "PeriodicTasks"),
    )


def uninstall(apps, schema_editor):
    from audit.schedule import PERIODIC_TASKS

    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[p.name for p in PERIODIC_TASKS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_access_log_pruning"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
