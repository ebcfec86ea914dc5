"""Two first sign-ins of the same new person at once (two tabs, a double click at the provider):
both find no identity, and both try to link it (and, with --create-users, to create the account).
The unique constraints let one link; the other signs in through that link, never a 500.
PostgreSQL only (SQLite serialises writers, so it cannot show the race)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from partners.models import User
from sso import services
from sso.models import ExternalIdentity
from sso.services import identity_sign_in, provider_create
from tests import factories

ISSUER = "https://login.police.example/tenant/v2.0"

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: real concurrent transactions",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def provider(police, monkeypatch):
    monkeypatch.setenv("POLICE_SSO_SECRET", "s")
    return provider_create(
        partner=police,
        issuer=ISSUER,
        client_id="vru",
        domains=["police.example"],
        secret_env="POLICE_SSO_SECRET",
        create_users=True,
    )


@pytest.fixture
def slow_first_link(monkeypatch):
    """Widen the race: both sign-ins have looked for the identity (none yet) before either
    finds or creates the account and links it."""
    real = services._first_sign_in_account

    def slow(provider, claims):
        time.sleep(0.3)
        return real(provider, claims)

    monkeypatch.setattr(services, "_first_sign_in_account", slow)


def sign_in_at_once(provider, claims, times: int = 2) -> list:
    barrier = threading.Barrier(times)
    outcomes: list = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=10)
            outcome = identity_sign_in(provider=provider, claims=claims).pk
        except Exception as error:  # the test reports whatever it was
            outcome = error
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def claims(**changes) -> dict:
    return {"iss": ISSUER, "sub": "person-1", "email": "newcomer@police.example", **changes}


def test_a_new_account_is_created_and_linked_once(provider, slow_first_link):
    outcomes = sign_in_at_once(provider, claims(name="Nat Newcomer"))
    identity = ExternalIdentity.objects.get()
    assert outcomes == [identity.pk, identity.pk], outcomes
    assert User.objects.filter(email="newcomer@police.example").count() == 1
    assert identity.user.membership.partner == provider.partner


def test_an_existing_account_is_linked_once(provider, police, slow_first_link):
    user = factories.make_user(police, email="officer@police.example")
    outcomes = sign_in_at_once(provider, claims(email="officer@police.example"), times=3)
    identity = ExternalIdentity.objects.get()
    assert identity.user == user
    assert outcomes == [identity.pk] * 3, outcomes


def test_another_identity_claiming_the_address_meanwhile_is_still_refused(
    provider, police, slow_first_link
):
    # Two different people at the provider claim one address at once: one links, the other is
    # refused (not let in through the first one's link).
    factories.make_user(police, email="officer@police.example")
    results: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def run(sub):
        try:
            barrier.wait(timeout=10)
            results[sub] = identity_sign_in(
                provider=provider, claims=claims(sub=sub, email="officer@police.example")
            ).subject
        except services.SignInRefused as refusal:
            results[sub] = refusal.reason
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(sub,)) for sub in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(map(str, results.values())) in (
        ["a", "account_linked_to_another_identity"],
        ["account_linked_to_another_identity", "b"],
    ), results
    assert ExternalIdentity.objects.count() == 1
