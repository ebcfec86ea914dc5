"""Two real OpenID Connect providers for two partners: the police's (police.example) and the
school's (school.example), each in its own process on 127.0.0.1."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from sso.services import provider_create
from tests.sso.provider import OidcProvider

# Who each provider knows, and what its id tokens say about them.
POLICE_PEOPLE = {
    "officer": {"email": "officer@police.example", "name": "Pat Officer", "amr": ["pwd"]},
    "sergeant": {"email": "sergeant@police.example", "name": "Sam Sergeant", "amr": ["pwd", "mfa"]},
    "newcomer": {"email": "newcomer@police.example", "name": "Nat Newcomer", "amr": ["mfa"]},
    "leaver": {"email": "leaver@police.example", "name": "Lee Leaver", "amr": ["mfa"]},
    "stray": {"email": "stray@police.example", "name": "Sol Stray", "amr": ["mfa"]},
    # Another person at the provider who claims the officer's address.
    "impostor": {"email": "officer@police.example", "name": "Not Pat", "amr": ["mfa"]},
}
SCHOOL_PEOPLE = {
    "teacher": {"email": "teacher@school.example", "name": "Tay Teacher", "amr": ["mfa"]},
    # The school's provider vouching for a police address.
    "officer-at-school": {"email": "officer@police.example", "name": "Pat", "amr": ["mfa"]},
}


def start_providers(tmp_path_factory, redirect_bases: list[str]):
    """Both providers, started; the caller kills them in `finally`."""
    started = []
    try:
        for name, people in (("police", POLICE_PEOPLE), ("school", SCHOOL_PEOPLE)):
            provider = OidcProvider(
                tmp_path_factory.mktemp(f"oidc-{name}"), users=people, redirect_bases=redirect_bases
            )
            started.append(provider)
            provider.launch()
        for provider in started:
            provider.wait_ready()
    except BaseException:
        for provider in started:
            provider.kill()
        raise
    return started


def register(partner, idp: OidcProvider, domain: str, monkeypatch, **options):
    variable = f"SSO_TEST_SECRET_{partner.slug.upper().replace('-', '_')}"
    monkeypatch.setenv(variable, idp.client_secret)
    return provider_create(
        partner=partner,
        issuer=idp.issuer,
        client_id=idp.client_id,
        domains=[domain],
        secret_env=variable,
        mfa_amr=["mfa", "otp", "hwk"],
        **options,
    )


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Discovery documents and keys are cached per issuer; every test starts from the providers.
    cache.clear()
    yield
    cache.clear()
