"""Operations views of the sync machinery. Records that the API writes (deliveries, external ids,
idempotency keys) are read-only here: editing a stored idempotency record's caller or fingerprint
would replay another caller's stored response (personal data) to whoever sends the key, and an
edited external id would point a partner's batch sync at another record."""

from django.contrib import admin

from sync.models import ExternalRef, IdempotencyRecord, WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "partner", "active", "consecutive_failures", "disabled_at", "created_at"]
    list_filter = ["active", "partner"]
    exclude = ["secret"]
    readonly_fields = ["cursor_seq", "consecutive_failures", "disabled_at", "disabled_reason"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event_type",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    ]
    list_filter = ["status", "event_type"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]


@admin.register(ExternalRef)
class ExternalRefAdmin(ReadOnlyAdmin):
    list_display = ["partner", "resource", "local_id", "object_id", "created_at"]
    list_filter = ["resource", "partner"]
    search_fields = ["local_id", "object_id"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["caller", "key", "method", "path", "state", "status_code", "expires_at"]
    list_filter = ["state"]
    exclude = ["body"]  # may hold personal data
