"""Setting up a partner's identity provider: `manage.py add_identity_provider` and the admin page."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from partners.models import Role
from sso.models import IdentityProvider
from tests import factories

pytestmark = pytest.mark.django_db

ISSUER = "https://login.microsoftonline.com/0000-tenant/v2.0"


def add(*extra: str, partner: str = "police"):
    call_command(
        "add_identity_provider",
        "--partner", partner,
        "--issuer", ISSUER,
        "--client-id", "app-id",
        *extra,
    )  # fmt: skip


class TestCommand:
    def test_it_adds_a_provider(self, police, capsys):
        add(
            "--secret-env", "POLICE_SSO_SECRET",
            "--domains", "Police.example, met.police.example",
            "--create-users",
            "--mfa-amr", "mfa,otp,hwk",
            "--mfa-acr", "possessionorinherence",
            "--back-channel-logout",
            "--refresh-minutes", "5",
            "--offline-access",
        )  # fmt: skip
        provider = IdentityProvider.objects.get(partner=police)
        assert provider.issuer == ISSUER and provider.client_id == "app-id"
        assert provider.secret_env == "POLICE_SSO_SECRET" and provider.secret_file == ""
        assert sorted(provider.domains.values_list("domain", flat=True)) == [
            "met.police.example",
            "police.example",
        ]
        assert provider.create_users and provider.default_role == Role.PRACTITIONER
        assert provider.mfa_amr == ["mfa", "otp", "hwk"]
        assert provider.mfa_acr == "possessionorinherence"
        assert provider.backchannel_logout and provider.refresh_minutes == 5
        assert provider.offline_access
        out = capsys.readouterr().out
        assert "police.example" in out
        assert "/sso/back-channel-logout/police/" in out  # the URI to register at the provider

    def test_the_secret_is_never_taken_on_the_command_line(self, police):
        with pytest.raises((CommandError, SystemExit)):
            add("--secret", "s3cret", "--domains", "police.example")
        with pytest.raises((CommandError, SystemExit)):
            add("--domains", "police.example")  # nowhere to read it from
        with pytest.raises((CommandError, SystemExit)):
            add("--secret-env", "A", "--secret-file", "/run/secrets/b", "--domains", "p.example")
        assert not IdentityProvider.objects.exists()

    @pytest.mark.parametrize("role", [Role.ADMIN, Role.AUDITOR, "superuser"])
    def test_accounts_it_creates_are_never_admins_or_auditors(self, police, role):
        with pytest.raises(CommandError):
            add("--secret-env", "S", "--domains", "police.example", "--default-role", role)
        assert not IdentityProvider.objects.exists()

    def test_a_manager_role_may_be_the_default(self, police):
        add("--secret-file", "/run/secrets/police", "--domains", "police.example",
            "--default-role", Role.MANAGER)  # fmt: skip
        assert IdentityProvider.objects.get().default_role == Role.MANAGER

    def test_one_provider_per_partner_and_per_domain(self, police, school):
        add("--secret-env", "S", "--domains", "police.example")
        with pytest.raises(CommandError, match="already has"):
            add("--secret-env", "S", "--domains", "other.example")
        with pytest.raises(CommandError, match=r"police\.example"):
            add("--secret-env", "S", "--domains", "police.example", partner="school")

    def test_production_takes_only_https_issuers(self, police, settings):
        settings.PRODUCTION = True
        with pytest.raises(CommandError, match="https"):
            call_command(
                "add_identity_provider",
                "--partner", "police",
                "--issuer", "http://login.police.example",
                "--client-id", "app-id",
                "--secret-env", "S",
                "--domains", "police.example",
            )  # fmt: skip

    def test_the_database_refuses_a_privileged_default_role_too(self, police):
        with pytest.raises(IntegrityError), transaction.atomic():
            IdentityProvider.objects.create(
                partner=police, issuer=ISSUER, client_id="x", secret_env="S", default_role="admin"
            )


class TestAdminPage:
    def test_administrators_set_providers_up(self, admin_client, police):
        response = admin_client.post(
            "/admin/sso/identityprovider/add/",
            {
                "partner": police.pk,
                "issuer": ISSUER,
                "client_id": "app-id",
                "secret_env": "POLICE_SSO_SECRET",
                "secret_file": "",
                "default_role": Role.PRACTITIONER,
                "mfa_amr": "mfa, otp",
                "mfa_acr": "",
                "backchannel_logout": "on",
                "refresh_minutes": "10",
                "active": "on",
                "domains-TOTAL_FORMS": "1",
                "domains-INITIAL_FORMS": "0",
                "domains-MIN_NUM_FORMS": "1",
                "domains-MAX_NUM_FORMS": "1000",
                "domains-0-domain": "police.example",
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        provider = IdentityProvider.objects.get()
        assert provider.mfa_amr == ["mfa", "otp"]
        assert provider.backchannel_logout and provider.refresh_minutes == 10
        assert list(provider.domains.values_list("domain", flat=True)) == ["police.example"]

    def test_the_admin_page_refuses_a_privileged_default_role(self, admin_client, police):
        response = admin_client.post(
            "/admin/sso/identityprovider/add/",
            {
                "partner": police.pk,
                "issuer": ISSUER,
                "client_id": "app-id",
                "secret_env": "S",
                "default_role": Role.ADMIN,
                "domains-TOTAL_FORMS": "1",
                "domains-INITIAL_FORMS": "0",
                "domains-MIN_NUM_FORMS": "1",
                "domains-MAX_NUM_FORMS": "1000",
                "domains-0-domain": "police.example",
            },
        )
        assert response.status_code == 200
        assert b"cannot be admins" in response.content
        assert not IdentityProvider.objects.exists()

    @pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.MANAGER, Role.AUDITOR])
    def test_nobody_but_administrators_reaches_it(self, client, police, role):
        client.force_login(factories.make_user(police, role))
        for path in ("/admin/sso/identityprovider/", "/admin/sso/externalidentity/"):
            response = client.get(path)
            assert response.status_code == 302 and "/admin/login/" in response.url
