from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from partners.models import ApiClient, Membership, Partner, PersonalToken, User
from partners.tokens import hash_token


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
class TestAddPartner:
    def test_it_creates_partner_and_its_group(self):
        run("add_partner", "--slug", "met-police", "--name", "Met Police", "--sector", "police")
        partner = Partner.objects.get(slug="met-police")
        assert partner.sector == "police"
        assert partner.group.name == "partner:met-police"

    def test_it_refuses_unknown_sector_with_one_line(self):
        with pytest.raises(CommandError) as exc:
            run("add_partner", "--slug", "x", "--name", "X", "--sector", "army")
        assert "'army' is not a sector" in str(exc.value)
        assert "\n" not in str(exc.value)
        assert not Partner.objects.exists()

    def test_it_refuses_duplicate_slug(self):
        run("add_partner", "--slug", "p", "--name", "P", "--sector", "health")
        with pytest.raises(CommandError, match="already exists"):
            run("add_partner", "--slug", "p", "--name", "P2", "--sector", "health")


@pytest.mark.django_db
class TestAddUser:
    def test_it_creates_user_with_one_membership(self, police):
        run(
            "add_user",
            "--partner",
            "police",
            "--role",
            "manager",
            "--email",
            "Sgt@Police.Example",
            "--password",
            "a-long-enough-password",
        )
        user = User.objects.get(email="sgt@police.example")
        assert user.check_password("a-long-enough-password")
        assert user.membership.role == "manager"
        assert user.groups.filter(pk=police.group_id).exists()

    def test_it_refuses_unknown_partner(self, db):
        with pytest.raises(CommandError, match="no partner with slug 'nope'"):
            run("add_user", "--partner", "nope", "--role", "manager", "--email", "a@b.example")

    def test_it_refuses_bad_role(self, police):
        with pytest.raises(CommandError, match="'chief' is not a role"):
            run("add_user", "--partner", "police", "--role", "chief", "--email", "a@b.example")
        assert not User.objects.exists()

    def test_it_refuses_duplicate_email(self, officer):
        with pytest.raises(CommandError, match="already exists"):
            run(
                "add_user",
                "--partner",
                "police",
                "--role",
                "manager",
                "--email",
                "OFFICER@police.example",
            )
        assert Membership.objects.count() == 1

    def test_it_refuses_weak_password(self, police):
        with pytest.raises(CommandError, match="too weak"):
            run(
                "add_user",
                "--partner",
                "police",
                "--role",
                "manager",
                "--email",
                "a@b.example",
                "--password",
                "password",
            )


@pytest.mark.django_db
class TestTokens:
    def test_issue_token_prints_a_token_stored_only_as_hash(self, officer):
        token = run("issue_token", "--email", "officer@police.example")
        assert token.startswith("vrup_")
        record = PersonalToken.objects.get(user=officer)
        assert record.token_hash == hash_token(token)
        assert token not in (record.token_hash, record.token_prefix)

    def test_issue_token_for_unknown_email(self, db):
        with pytest.raises(CommandError, match="no user with email"):
            run("issue_token", "--email", "ghost@example.org")

    def test_add_api_client_prints_token_with_scopes(self, police):
        token = run(
            "add_api_client", "--partner", "police", "--name", "RMS", "--scopes", "read,sync"
        )
        client = ApiClient.objects.get(name="RMS")
        assert client.scopes == ["read", "sync"]
        assert client.token_hash == hash_token(token)

    def test_add_api_client_refuses_bad_scope(self, police):
        with pytest.raises(CommandError, match="Unknown scope"):
            run("add_api_client", "--partner", "police", "--name", "RMS", "--scopes", "read,admin")

    def test_add_api_client_refuses_unknown_partner(self, db):
        with pytest.raises(CommandError, match="no partner"):
            run("add_api_client", "--partner", "nope", "--name", "RMS")


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_logins():
    first = run("seed_demo")
    counts = (Partner.objects.count(), User.objects.count())
    second = run("seed_demo")
    assert (Partner.objects.count(), User.objects.count()) == counts
    assert "coordinator@vru.example" in first and "coordinator@vru.example" in second
    assert set(Partner.objects.values_list("sector", flat=True)) == {
        "police",
        "education",
        "housing",
        "health",
        "probation",
        "youth_justice",
        "social_care",
        "vru",
        "voluntary",
    }
    assert set(Membership.objects.values_list("role", flat=True)) == {
        "practitioner",
        "manager",
        "coordinator",
        "auditor",
        "admin",
    }
