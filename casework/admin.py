"""Administrators run the system; they do not read case content (cases.access). So the admin shows
referral metadata only (dates, channel, urgency, partners) and nothing can be edited here: every
change goes through the services, which check access and write the access log.

Chronology entries, adversity records, screenings and actions are not in the admin at all: their
text (an action's title is its name everywhere in the admin) is case content."""

from django.contrib import admin

from casework.models import Referral


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
