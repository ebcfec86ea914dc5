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
    # ... and how to get an API token for one of them.
    assert "manage.py issue_token --email " in first
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


@pytest.fixture
def divert(db):
    from programmes.catalogue import install_standard_programmes
    from programmes.models import Programme

    # A transactional test elsewhere may have emptied the tables the data migration filled.
    install_standard_programmes(Programme)
    return Programme.objects.get(slug="divert")


@pytest.mark.django_db
class TestProgrammeCoordinators:
    def test_it_replaces_the_coordinators_and_keeps_the_change(
        self, divert, coordinator, sergeant, officer
    ):
        from core.models import Change
        from programmes.models import ProgrammeConfigChange

        divert.coordinators.set([officer])
        version = divert.version
        out = run(
            "set_programme_coordinators",
            "--programme",
            "divert",
            "--emails",
            " Coordinator@VRU.example , sergeant@police.example",
        )
        assert (
            out
            == "DIVERT custody coaching is coordinated by coordinator@vru.example, sergeant@police.example."
        )
        divert.refresh_from_db()
        assert {u.email for u in divert.coordinators.all()} == {
            "coordinator@vru.example",
            "sergeant@police.example",
        }
        assert divert.version == version + 1
        change = ProgrammeConfigChange.objects.get(programme=divert)
        assert change.changed == ["coordinators"]
        assert change.before == {"coordinators": [str(officer.pk)]}
        assert change.user is None and change.version == divert.version
        assert Change.objects.filter(resource="programme", object_id=divert.pk).exists()

    def test_the_same_coordinators_again_change_nothing(self, divert, coordinator):
        from programmes.models import ProgrammeConfigChange

        args = ["--programme", "divert", "--emails", "coordinator@vru.example"]
        run("set_programme_coordinators", *args)
        divert.refresh_from_db()
        version = divert.version
        run("set_programme_coordinators", *args)
        divert.refresh_from_db()
        assert divert.version == version
        assert ProgrammeConfigChange.objects.filter(programme=divert).count() == 1

    def test_it_refuses_an_unknown_programme(self, divert, coordinator):
        with pytest.raises(
            CommandError, match=r"no programme with slug 'nope' \(there are: .*divert"
        ):
            run("set_programme_coordinators", "--programme", "nope", "--emails", "x@y.example")

    def test_it_refuses_unknown_emails_and_changes_nothing(self, divert, coordinator, officer):
        divert.coordinators.set([officer])
        with pytest.raises(
            CommandError, match=r"No member of staff has the email nobody@vru\.example\."
        ):
            run(
                "set_programme_coordinators",
                "--programme",
                "divert",
                "--emails",
                "coordinator@vru.example,nobody@vru.example",
            )
        assert list(divert.coordinators.all()) == [officer]

    def test_it_refuses_staff_who_may_not_run_intake(self, divert, auditor, officer):
        officer.is_active = False
        officer.save()
        with pytest.raises(
            CommandError, match=r"auditor@vru\.example, officer@police\.example cannot"
        ):
            run(
                "set_programme_coordinators",
                "--programme",
                "divert",
                "--emails",
                "auditor@vru.example,officer@police.example",
            )
        assert not divert.coordinators.exists()

    def test_it_refuses_an_empty_list(self, divert):
        with pytest.raises(CommandError, match="at least one"):
            run("set_programme_coordinators", "--programme", "divert", "--emails", " , ")


@pytest.mark.django_db
class TestProgrammeOwner:
    def test_it_sets_the_owner_and_keeps_the_change(self, divert, vru, police):
        from programmes.models import ProgrammeConfigChange

        out = run("set_programme_owner", "--programme", "divert", "--partner", "vru")
        assert out == "DIVERT custody coaching is run by Northshire VRU."
        run("set_programme_owner", "--programme", "divert", "--partner", "police")
        run("set_programme_owner", "--programme", "divert", "--partner", "police")
        divert.refresh_from_db()
        assert divert.owner == police
        changes = list(ProgrammeConfigChange.objects.filter(programme=divert).order_by("id"))
        assert [(c.before, c.after) for c in changes] == [
            ({"owner": None}, {"owner": str(vru.pk)}),
            ({"owner": str(vru.pk)}, {"owner": str(police.pk)}),
        ]

    def test_it_refuses_an_unknown_partner(self, divert):
        with pytest.raises(CommandError, match="no partner with slug 'nope'"):
            run("set_programme_owner", "--programme", "divert", "--partner", "nope")
        divert.refresh_from_db()
        assert divert.owner is None

    def test_it_refuses_an_unknown_programme(self, vru):
        with pytest.raises(CommandError, match="no programme with slug 'nope'"):
            run("set_programme_owner", "--programme", "nope", "--partner", "vru")
