"""Mark, on the standard programmes already installed, the intake fields their own team fills in
(x-filled-by: programme): the referrer is no longer asked for them. Only adds the mark to a field
that is still there and unmarked; nothing else in a schema its coordinators changed is touched."""

from django.db import migrations

# As programmes/catalogue.py PROGRAMME_FIELDS at the time of writing (a migration keeps its own).
PROGRAMME_FIELDS = {
    "divert": ["approached_at", "coach", "approach_outcome", "pathway"],
    "invisible-walls": ["materials_given"],
    "street-and-arrow": [
        "placement_start", "placement_end", "mentor", "therapy_provider", "group_work",
    ],
}  # fmt: skip


def mark(apps, schema_editor):
    Programme = apps.get_model("programmes", "Programme")
    for programme in Programme.objects.filter(slug__in=list(PROGRAMME_FIELDS)):
        properties = (programme.intake_schema or {}).get("properties")
        if not isinstance(properties, dict):
            continue
        changed = False
        for name in PROGRAMME_FIELDS[programme.slug]:
            spec = properties.get(name)
            if isinstance(spec, dict) and "x-filled-by" not in spec:
                spec["x-filled-by"] = "programme"
                changed = True
        if changed:
            programme.save(update_fields=["intake_schema"])


class Migration(migrations.Migration):
    dependencies = [("programmes", "0004_session_missed_reason")]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
