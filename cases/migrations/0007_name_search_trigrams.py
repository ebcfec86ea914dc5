"""Trigram indexes on people's names (PostgreSQL only), for substring search (cases/search.py).

Django's `icontains` compares UPPER(name) LIKE UPPER('%word%'): the indexes are on exactly that
expression. They live in the database only (not in the model state): SQLite has no trigrams and
searches the few rows a development database holds directly. pg_trgm is a trusted extension, so
the database owner may create it.
"""

from django.db import migrations

NAMES = ("given_name", "family_name", "preferred_name")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name in NAMES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS cases_person_{name}_trgm "
            f"ON cases_person USING gin (UPPER({name}) gin_trgm_ops)"
        )
    # Statistics for the indexed expressions, so substring matches are estimated from the data.
    schema_editor.execute("ANALYZE cases_person")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in NAMES:
        schema_editor.execute(f"DROP INDEX IF EXISTS cases_person_{name}_trgm")


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_person_processing_restriction")]

    operations = [migrations.RunPython(create, drop)]
