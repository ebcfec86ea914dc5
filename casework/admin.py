"""Administrators run the system; they do not read case content (cases.access). So the admin shows
case-work metadata only (dates, codes, statuses, partners) and nothing can be edited here: every
change goes through the services, which check access and write the access log."""

from django.contrib import admin

from casework.models import Action, Referral


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "source_partner", "channel", "urgency", "received_at", "screening_due_at", "screened_at",
    ]  # fmt: skip
    list_filter = ["urgency", "channel", "source_partner"]
    fields = list_display
    date_hierarchy = "received_at"


@admin.register(Action)
class ActionAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "owner_partner", "status", "due_date", "updated_at"]
    list_filter = ["status", "owner_partner"]
    fields = list_display
