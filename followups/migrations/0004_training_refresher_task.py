"""Creates the django-celery-beat row for the training refresher sweep (followups/schedule.py),
when missing: install_periodic_tasks leaves the rows that exist alone."""

from django.db import migrations


def install(apps, schema_editor):
    from followups.schedule import install_periodic_tasks

    install_periodic_tasks(
        apps.get_model("django_celery_beat", "PeriodicTask"),
        apps.get_model("django_celery_beat", "IntervalSchedule"),
        apps.get_model("django_celery_beat", "PeriodicTasks"),
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="Training refreshers"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("followups", "0003_periodic_tasks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
