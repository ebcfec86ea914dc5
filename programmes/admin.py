"""Administrators configure programmes here; coordinators do it through the API. Enrolments are
personal data and are not in the admin: every read of them goes through the access log."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import F
from django.utils import timezone

from core.changes import record_change
from core.errors import ValidationFailed
from programmes.config import validate_config
from programmes.models import Programme
from programmes.services import CONFIG_FIELDS


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
