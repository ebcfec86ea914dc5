"""Provisioning: partners, staff accounts and their memberships, API clients and tokens.

Nobody changes their own membership here (the form refuses it, and so does the service every
membership change goes through); every change is logged and the partners' managers are told.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied

from core.errors import DomainError
from partners import services
from partners.models import (
    ApiClient,
    Membership,
    MembershipChange,
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


OWN_MEMBERSHIP_ERROR = (
    "You cannot change your own role or partner. Ask another administrator to do it."
)


class MembershipFormSet(forms.BaseInlineFormSet):
    editor = None  # the signed-in administrator, set by MembershipInline.get_formset

    def clean(self):
        super().clean()
        own = self.editor is not None and self.instance.pk == self.editor.pk
        if own and any(form.has_changed() for form in self.forms):
            raise forms.ValidationError(OWN_MEMBERSHIP_ERROR)


class MembershipInline(admin.StackedInline):
    model = Membership
    formset = MembershipFormSet
    can_delete = False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.editor = request.user
        return formset


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

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_staff", "is_superuser"]  # only a superuser makes administrators
        return fields

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        # Not formset.save(): the service refuses your own membership, logs the change, tells the
        # managers and moves the user's partner group. commit=False still fills in what the admin's
        # change message reads (new_objects, changed_objects).
        for membership in formset.save(commit=False):
            try:
                services.membership_change(
                    user=form.instance,
                    partner=membership.partner,
                    role=membership.role,
                    changed_by=request.user,
                    channel="admin",
                )
            except DomainError as exc:
                raise PermissionDenied(exc.message) from exc

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


@admin.register(MembershipChange)
class MembershipChangeAdmin(admin.ModelAdmin):
    """The membership change log: read-only, like the table (append-only)."""

    list_display = [
        "at", "user", "old_partner", "old_role", "new_partner", "new_role", "changed_by", "channel",
    ]  # fmt: skip
    list_filter = ["channel", "new_role", "new_partner"]
    search_fields = ["user__email", "changed_by__email"]
    list_select_related = ["user", "old_partner", "new_partner", "changed_by"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
