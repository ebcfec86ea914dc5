"""Creates the django-celery-beat row for the sso app's periodic task (sso/schedule.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from sso.schedule import install_periodic_tasks

    install_periodic_tasks(
        apps.get_model("django_celery_beat", "PeriodicTask"),
        apps.get_model("django_celery_beat", "IntervalSchedule"),
        apps.get_model("django_celery_beat", "PeriodicTasks"),
    )


def uninstall(apps, schema_editor):
    from sso.schedule import PERIODIC_TASKS

    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[p.name for p in PERIODIC_TASKS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sso", "0002_leavers_back_channel_logout_and_refresh"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
