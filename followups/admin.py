"""Read-mostly admin views for operations: what is due, what was sent, what is stuck in the outbox.
The periodic schedule itself is under "Periodic tasks" (django-celery-beat)."""

from django.contrib import admin, messages

from followups import outbox
from followups.models import FollowUp, Notification, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = [
        "kind",
        "status",
        "due_at",
        "subject_resource",
        "assignee_user",
        "assignee_partner",
    ]
    list_filter = ["status", "kind"]
    date_hierarchy = "due_at"
    search_fields = ["subject_id", "kind"]
    list_select_related = ["assignee_user", "assignee_partner"]
    raw_id_fields = ["case", "assignee_user", "assignee_partner"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["kind", "recipient", "title", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__email", "dedupe_key"]
    list_select_related = ["recipient"]
    raw_id_fields = ["recipient"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "task_name", "created_at", "published_at", "attempts", "last_error"]
    list_filter = [("published_at", admin.EmptyFieldListFilter), "task_name"]
    actions = ["publish_now"]

    @admin.action(description="Publish the selected unpublished messages now")
    def publish_now(self, request, queryset):
        ids = list(queryset.filter(published_at__isnull=True).values_list("pk", flat=True))
        published = sum(outbox.publish(pk) for pk in ids)
        level = messages.SUCCESS if published == len(ids) else messages.WARNING
        self.message_user(request, f"Published {published} of {len(ids)}.", level)
