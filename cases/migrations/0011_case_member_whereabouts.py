"""The case's household becomes an explicit through model on the same table, so that family who
live elsewhere (a parent in prison) can be on the case with where they are."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0010_person_contact_safety")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="CaseMember",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, to="cases.case"
                            ),
                        ),
                        (
                            "person",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, to="cases.person"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "cases_case_household",
                        "unique_together": {("case", "person")},
                    },
                ),
                migrations.AlterField(
                    model_name="case",
                    name="household",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="household_cases",
                        through="cases.CaseMember",
                        to="cases.person",
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="casemember",
            name="whereabouts",
            field=models.CharField(
                choices=[
                    ("household", "Lives in the household"),
                    ("elsewhere", "Lives elsewhere"),
                    ("prison", "In prison"),
                ],
                default="household",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="casemember",
            name="place",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name="casemember",
            name="expected_release_date",
            field=models.DateField(blank=True, null=True),
        ),
    ]
