"""Administrators configure programmes here; coordinators do it through the API. Enrolments are
personal data and are not in the admin: every read of them goes through the access log."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin
from django.db.models import F
from django.utils import timezone

from core.changes import record_change
from core.errors import ValidationFailed
from programmes.config import validate_config
from programmes.models import Programme, ProgrammeConfigChange
from programmes.services import CONFIG_FIELDS, programme_config_change_record


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = [
            "slug", "name", "description", "owner", "coordinators", "capacity", "duration_days",
            "active", "eligibility", "intake_schema", "followup_schedule", "milestones", "outcomes",
            "session_kinds",
        ]  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        config = {name: cleaned[name] for name in CONFIG_FIELDS if name in cleaned}
        try:
            validate_config(config)
        except ValidationFailed as exc:
            for path, messages in exc.fields.items():
                field = path.split(".", 1)[0]
                detail = "; ".join(messages)
                self.add_error(field if field in self.fields else None, f"{path}: {detail}")
        return cleaned


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    form = ProgrammeForm
    list_display = ["name", "slug", "owner", "capacity", "active", "updated_at"]
    list_filter = ["active", "owner"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["coordinators"]
    readonly_fields = ["version", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            # Keep the ETag honest: an API client holding the old version must re-read.
            Programme.objects.filter(pk=obj.pk).update(
                version=F("version") + 1, updated_at=timezone.now()
            )
        record_change("programme", obj.pk, "updated" if change else "created")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            return
        # Configuration changed here is kept like a change through the API (who, when, values).
        programme = Programme.objects.get(pk=form.instance.pk)
        before, after = {}, {}
        for name in form.changed_data:
            field = Programme._meta.get_field(name)
            old = _jsonable(form.initial.get(name))
            if field.many_to_many:
                new = _jsonable(getattr(programme, name).all())
            elif field.many_to_one:  # the form's initial value is the id
                old, new = (
                    _jsonable(form.initial.get(name)),
                    _jsonable(getattr(programme, field.attname)),
                )
            else:
                new = _jsonable(getattr(programme, name))
            if old != new:
                before[name], after[name] = old, new
        membership = getattr(request.user, "membership", None)
        programme_config_change_record(
            programme=programme, before=before, after=after, user=request.user,
            partner=membership.partner if membership else None,
            role=membership.role if membership else "",
        )  # fmt: skip


@admin.register(ProgrammeConfigChange)
class ProgrammeConfigChangeAdmin(admin.ModelAdmin):
    """Who changed which setting of a programme, when, and the values before and after. Read-only:
    the log is append-only."""

    list_display = ["at", "programme", "version", "user", "role", "changed"]
    list_filter = ["programme"]
    readonly_fields = [
        "programme", "version", "at", "user", "client", "partner", "role", "changed", "before",
        "after",
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _jsonable(value):
    """Configuration values as kept in the change log: related records by id."""
    if hasattr(value, "pk"):
        return str(value.pk)
    if isinstance(value, (list, tuple)) or hasattr(value, "model"):
        return sorted(str(getattr(v, "pk", v)) for v in value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
