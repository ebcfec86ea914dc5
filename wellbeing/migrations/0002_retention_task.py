"""Creates the django-celery-beat row for check-ins' retention (wellbeing/schedule.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from wellbeing.schedule import install_periodic_tasks

    install_periodic_tasks(
        apps.get_model("django_celery_beat", "PeriodicTask"),
        apps.get_model("django_celery_beat", "IntervalSchedule"),
        apps.get_model("django_celery_beat", "PeriodicTasks"),
    )


def uninstall(apps, schema_editor):
    from wellbeing.schedule import PERIODIC_TASKS

    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[p.name for p in PERIODIC_TASKS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("wellbeing", "0001_check_ins"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
