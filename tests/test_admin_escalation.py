"""Administrators provision accounts; they cannot give themselves a partner or a role (and with it
case access), every membership change is logged append-only and told to the partners' managers,
and no admin page shows case content."""

from __future__ import annotations

import html

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AppendOnlyError
from core.errors import Forbidden
from followups.models import Notification
from partners import services
from partners.models import Membership, MembershipChange, Role, User
from tests import factories
from tests.conftest import Api


@pytest.fixture
def sysadmin(vru):
    return factories.make_user(vru, Role.ADMIN, email="sysadmin@vru.example", name="Sam Admin")


@pytest.fixture
def admin_client(client, sysadmin):
    client.force_login(sysadmin)
    return client


def form_data(response) -> dict:
    """The POST body a browser would send back for an admin change/add page, unchanged."""
    data: dict = {}

    def add(form):
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif value is not None:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def change_url(user: User) -> str:
    return reverse("admin:partners_user_change", args=[user.pk])


def membership(user: User) -> tuple[str, str]:
    m = Membership.objects.select_related("partner").get(user=user)
    return m.partner.slug, m.role


@pytest.mark.django_db
class TestOwnMembership:
    def post_own_change(self, admin_client, sysadmin, **membership_fields):
        data = form_data(admin_client.get(change_url(sysadmin)))
        for field, value in membership_fields.items():
            data[f"membership-0-{field}"] = value
        return admin_client.post(change_url(sysadmin), data)

    def test_an_admin_cannot_make_themselves_a_manager(self, admin_client, sysadmin):
        response = self.post_own_change(admin_client, sysadmin, role=Role.MANAGER)
        assert response.status_code == 200
        assert "You cannot change your own role or partner" in response.content.decode()
        assert membership(sysadmin) == ("vru", Role.ADMIN)

    def test_an_admin_cannot_move_themselves_to_another_partner(
        self, admin_client, sysadmin, police
    ):
        response = self.post_own_change(admin_client, sysadmin, partner=str(police.pk))
        assert response.status_code == 200
        assert "You cannot change your own role or partner" in response.content.decode()
        assert membership(sysadmin) == ("vru", Role.ADMIN)
        assert not sysadmin.groups.filter(pk=police.group_id).exists()
        # ... so the cases stay closed to them.
        assert Api(factories.token_for(sysadmin)).get("/api/v1/cases/").json()["results"] == []

    def test_saving_your_own_account_unchanged_still_works(self, admin_client, sysadmin):
        data = form_data(admin_client.get(change_url(sysadmin)))
        data["full_name"] = "Sam Admin-Jones"
        assert admin_client.post(change_url(sysadmin), data).status_code == 302
        sysadmin.refresh_from_db()
        assert sysadmin.full_name == "Sam Admin-Jones"

    def test_the_service_refuses_it_whatever_the_channel(self, sysadmin, police):
        with pytest.raises(Forbidden):
            services.membership_change(
                user=sysadmin, partner=police, role=Role.MANAGER, changed_by=sysadmin, channel="api"
            )
        assert membership(sysadmin) == ("vru", Role.ADMIN)


@pytest.mark.django_db
class TestChangingSomeoneElse:
    def test_it_is_logged_and_both_partners_managers_are_told(
        self, admin_client, sysadmin, officer, sergeant, school, police
    ):
        head = factories.make_user(school, Role.MANAGER, email="head@school.example")
        data = form_data(admin_client.get(change_url(officer)))
        data["membership-0-partner"] = str(school.pk)
        data["membership-0-role"] = Role.MANAGER
        assert admin_client.post(change_url(officer), data).status_code == 302

        assert membership(officer) == ("school", Role.MANAGER)
        assert list(officer.groups.filter(partner__isnull=False)) == [school.group]
        change = MembershipChange.objects.filter(user=officer).first()
        assert (change.changed_by, change.channel) == (sysadmin, "admin")
        assert (change.old_partner, change.old_role) == (police, Role.PRACTITIONER)
        assert (change.new_partner, change.new_role) == (school, Role.MANAGER)

        told = Notification.objects.filter(kind="membership_changed")
        assert {n.recipient for n in told} >= {sergeant, head}
        for notification in told:
            assert notification.title == services.MEMBERSHIP_CHANGE_TITLE
            assert officer.email not in notification.title
            assert officer.full_name not in notification.title
            assert notification.link == "/manager/staff/"

    def test_an_unchanged_membership_is_not_logged(self, admin_client, officer):
        data = form_data(admin_client.get(change_url(officer)))
        before = MembershipChange.objects.count()
        assert admin_client.post(change_url(officer), data).status_code == 302
        assert MembershipChange.objects.count() == before

    def test_moving_someone_to_admin_and_back_follows_the_admin_flags(self, sysadmin, officer):
        services.membership_change(
            user=officer, partner=officer.membership.partner, role=Role.ADMIN,
            changed_by=sysadmin, channel="admin",
        )  # fmt: skip
        officer.refresh_from_db()
        assert officer.is_staff and officer.is_superuser
        services.membership_change(
            user=officer, partner=officer.membership.partner, role=Role.PRACTITIONER,
            changed_by=sysadmin, channel="admin",
        )  # fmt: skip
        officer.refresh_from_db()
        assert not officer.is_staff and not officer.is_superuser

    def test_accounts_made_at_the_command_line_are_logged(self, police):
        user = factories.make_user(police, Role.MANAGER)
        change = MembershipChange.objects.get(user=user)
        assert change.changed_by is None and change.channel == "command"
        assert (change.old_partner, change.new_partner, change.new_role) == (
            None,
            police,
            Role.MANAGER,
        )


@pytest.mark.django_db
class TestTheLogIsAppendOnly:
    def test_the_model_refuses_update_and_delete(self, officer):
        change = MembershipChange.objects.get(user=officer)
        change.new_role = Role.MANAGER
        with pytest.raises(AppendOnlyError):
            change.save()
        with pytest.raises(AppendOnlyError):
            change.delete()
        with pytest.raises(AppendOnlyError):
            MembershipChange.objects.filter(pk=change.pk).update(new_role=Role.MANAGER)
        with pytest.raises(AppendOnlyError):
            MembershipChange.objects.filter(pk=change.pk).delete()
        with pytest.raises(AppendOnlyError):
            MembershipChange.objects.bulk_update([change], ["new_role"])

    @pytest.mark.skipif("connection.vendor != 'postgresql'")
    def test_the_database_refuses_update_and_delete(self, officer):
        from django.db import DatabaseError

        table = MembershipChange._meta.db_table
        for sql in (f"UPDATE {table} SET new_role = 'manager'", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
        assert MembershipChange.objects.get(user=officer).new_role == Role.PRACTITIONER

    def test_the_admin_shows_it_read_only(self, admin_client, officer):
        change = MembershipChange.objects.get(user=officer)
        assert (
            admin_client.get(reverse("admin:partners_membershipchange_changelist")).status_code
            == 200
        )
        url = reverse("admin:partners_membershipchange_change", args=[change.pk])
        assert admin_client.get(url).status_code == 200
        assert admin_client.post(url, {"new_role": Role.MANAGER}).status_code == 403
        assert admin_client.get(reverse("admin:partners_membershipchange_add")).status_code == 403
        delete = reverse("admin:partners_membershipchange_delete", args=[change.pk])
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403
        assert MembershipChange.objects.get(pk=change.pk).new_role == Role.PRACTITIONER


@pytest.mark.django_db
def test_admin_pages_show_no_case_content(admin_client, sysadmin, capsys):
    """Every admin list, and object and history pages, over the demo partnership's records."""
    call_command("seed_demo")
    capsys.readouterr()
    from cases.models import Case, Person
    from casework.models import Action, ChronologyEntry, Referral

    content = set()
    content |= {f"{p.given_name} {p.family_name}" for p in Person.objects.all()}
    content |= set(Case.objects.exclude(summary="").values_list("summary", flat=True))
    content |= set(Action.objects.values_list("title", flat=True))
    content |= set(Action.objects.exclude(description="").values_list("description", flat=True))
    content |= set(ChronologyEntry.objects.values_list("body", flat=True))
    content |= set(Referral.objects.values_list("description", flat=True))
    content = {text[:60] for text in content if len(text) >= 8}
    assert Action.objects.exists() and ChronologyEntry.objects.exists() and len(content) > 10

    request = RequestFactory().get("/admin/")
    request.user = sysadmin
    pages = 0
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls = [reverse(f"{info}_changelist")]
        for n, pk in enumerate(model_admin.get_queryset(request).values_list("pk", flat=True)[:3]):
            urls.append(reverse(f"{info}_change", args=[pk]))
            if n == 0:
                urls.append(reverse(f"{info}_history", args=[pk]))
        for url in urls:
            response = admin_client.get(url)
            assert response.status_code == 200, url
            page = html.unescape(response.content.decode())
            leaked = [text for text in content if text in page]
            assert not leaked, f"{url} shows case content: {leaked[:3]}"
            pages += 1
    assert pages > 40


@pytest.mark.django_db
class TestOtherAdminPages:
    def test_a_totp_device_secret_is_never_shown(self, admin_client, officer):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
        response = admin_client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
        assert response.status_code == 200
        assert device.key not in response.content.decode()

    def test_stored_idempotency_records_cannot_be_edited(self, admin_client, officer):
        from datetime import timedelta

        from django.utils import timezone

        from sync.models import IdempotencyRecord

        record = IdempotencyRecord.objects.create(
            caller=f"user:{officer.pk}", key="k1", fingerprint="f" * 64, method="POST",
            path="/api/v1/people/", expires_at=timezone.now() + timedelta(hours=24),
        )  # fmt: skip
        url = reverse("admin:sync_idempotencyrecord_change", args=[record.pk])
        response = admin_client.post(url, {"caller": "user:someone-else", "fingerprint": "0" * 64})
        assert response.status_code == 403
        record.refresh_from_db()
        assert record.caller == f"user:{officer.pk}"

    def test_only_a_superuser_can_make_administrators(self, client, vru, officer):
        from django.contrib.auth.models import Permission

        staff = factories.make_user(vru, Role.COORDINATOR)
        User.objects.filter(pk=staff.pk).update(is_staff=True)
        staff.user_permissions.add(
            *Permission.objects.filter(codename__in=["view_user", "change_user"])
        )
        client.force_login(staff)
        page = client.get(change_url(officer)).content.decode()
        assert 'name="is_superuser"' not in page and 'name="is_staff"' not in page
