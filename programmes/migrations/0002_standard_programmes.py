"""Install the three programmes every VRU starts with: DIVERT, Invisible Walls, Street and Arrow.

Only creates missing ones (by slug), so it never overwrites a programme its coordinators changed.
The definitions live in programmes/catalogue.py (shared with seed_demo); see the note there.
"""

from django.db import migrations


def install(apps, schema_editor):
    from programmes.catalogue import install_standard_programmes

    install_standard_programmes(apps.get_model("programmes", "Programme"))


def uninstall(apps, schema_editor):
    # Leave programmes that have enrolments: removing them would lose people's records.
    Programme = apps.get_model("programmes", "Programme")
    Programme.objects.filter(
        slug__in=["divert", "invisible-walls", "street-and-arrow"], enrolments__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("programmes", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
