from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from partners import services
from partners.models import (
    ApiClient,
    Membership,
    Partner,
    PersonalToken,
    PractitionerProfile,
    TrainingRecord,
    User,
)


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "sector", "active"]
    list_filter = ["sector", "active"]
    search_fields = ["name", "slug"]
    readonly_fields = ["group"]

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.partner_create(slug=obj.slug, name=obj.name, sector=obj.sector)
            obj.pk, obj.group = created.pk, created.group
            obj._state.adding = False
        super().save_model(request, obj, form, change)


class MembershipInline(admin.StackedInline):
    model = Membership
    can_delete = False


class ProfileInline(admin.StackedInline):
    model = PractitionerProfile
    can_delete = False


class TrainingInline(admin.TabularInline):
    model = TrainingRecord
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    list_filter = ["is_active", "is_staff", "membership__partner", "membership__role"]
    fieldsets = [
        (None, {"fields": ["email", "full_name", "password"]}),
        (
            "Status",
            {"fields": ["is_active", "is_staff", "is_superuser", "last_login", "date_joined"]},
        ),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]})
    ]
    readonly_fields = ["last_login", "date_joined"]
    inlines = [MembershipInline, ProfileInline, TrainingInline]
    actions = ["disable_accounts"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.user_disable(user=obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        membership = Membership.objects.filter(user=user).select_related("partner").first()
        # Group membership follows the one partner membership.
        partner_groups = user.groups.filter(partner__isnull=False)
        if membership:
            user.groups.remove(*partner_groups.exclude(pk=membership.partner.group_id))
            user.groups.add(membership.partner.group)
        else:
            user.groups.remove(*partner_groups)

    @admin.action(description="Disable the selected accounts (ends their sessions and tokens)")
    def disable_accounts(self, request, queryset):
        for user in queryset:
            services.user_disable(user=user)
        self.message_user(request, f"Disabled {queryset.count()} account(s).", messages.SUCCESS)


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "partner",
        "scopes",
        "active",
        "token_prefix",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["partner", "active"]
    readonly_fields = ["token_hash", "token_prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are shown once: use `manage.py add_api_client`

    @admin.action(description="Revoke the selected clients")
    def revoke(self, request, queryset):
        for client in queryset:
            services.api_client_revoke(client=client)


@admin.register(PersonalToken)
class PersonalTokenAdmin(admin.ModelAdmin):
    list_display = ["token_prefix", "user", "name", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = ["token_hash", "token_prefix", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # use `manage.py issue_token`

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.personal_token_revoke(token=token)
