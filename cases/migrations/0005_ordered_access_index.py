from django.db import migrations, models


def copy_case_created_at(apps, schema_editor):
    permission = apps.get_model("cases", "CaseGroupObjectPermission")
    case = apps.get_model("cases", "Case")
    permission.objects.update(
        case_created_at=models.Subquery(
            case.objects.filter(pk=models.OuterRef("content_object_id")).values("created_at")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("cases", "0004_retention_and_legal_hold"),
    ]

    operations = [
        migrations.AddField(
            model_name="casegroupobjectpermission",
            name="case_created_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(copy_case_created_at, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="casegroupobjectpermission",
            name="case_created_at",
            field=models.DateTimeField(),
        ),
        migrations.RemoveIndex(
            model_name="casegroupobjectpermission",
            name="cases_caseg_group_i_7bb014_idx",
        ),
        migrations.AddIndex(
            model_name="casegroupobjectpermission",
            index=models.Index(
                models.F("group"),
                models.F("permission"),
                models.OrderBy(models.F("case_created_at"), descending=True),
                models.OrderBy(models.F("content_object"), descending=True),
                name="case_perm_ordered_access",
            ),
        ),
    ]
