"""The id-token check (sso.oidc.validate_id_token, Authlib's CodeIDToken over joserfc) with tokens
signed here by test keys: every claim that must hold, key rotation, and the MFA rule. The
provider's discovery document and keys are put in the cache, so nothing leaves the process."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from sso import oidc
from sso.models import IdentityProvider
from sso.oidc import InvalidIdToken, validate_id_token
from sso.services import SignInRefused, identity_sign_in, provider_create

ISSUER = "https://login.police.example/tenant/v2.0"
OTHER_ISSUER = "https://login.school.example/tenant/v2.0"
CLIENT_ID = "vru-case-coordination"
NONCE = "n-0S6_WzA2Mj"

pytestmark = pytest.mark.django_db


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})


@pytest.fixture(scope="module")
def key():
    return rsa_key("key-1")


@pytest.fixture
def provider(police, monkeypatch, key):
    monkeypatch.setenv("POLICE_SSO_SECRET", "s3cret")
    provider = provider_create(
        partner=police,
        issuer=ISSUER,
        client_id=CLIENT_ID,
        domains=["police.example"],
        secret_env="POLICE_SSO_SECRET",
        mfa_amr=["mfa"],
    )
    publish(provider, [key])
    return provider


def publish(provider: IdentityProvider, keys: list[RSAKey]) -> None:
    from django.conf import settings
    from django.core.cache import cache

    ttl = settings.SSO_METADATA_CACHE_SECONDS
    cache.set(
        oidc._cache_key("discovery", provider.issuer),
        {
            "issuer": provider.issuer,
            "authorization_endpoint": provider.issuer + "/authorize",
            "token_endpoint": provider.issuer + "/token",
            "jwks_uri": provider.issuer + "/keys",
        },
        ttl,
    )
    cache.set(oidc._cache_key("jwks", provider.issuer), KeySet(keys).as_dict(private=False), ttl)


def claims(**changes) -> dict:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "sub": "00000000-aaaa-4bbb-8ccc-000000000001",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": NONCE,
        "email": "officer@police.example",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(key, payload: dict, alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": key.kid}, payload, key)


def refused(provider, token: str, nonce: str = NONCE) -> str:
    with pytest.raises(InvalidIdToken) as raised:
        validate_id_token(provider, token, nonce=nonce)
    return raised.value.reason


class TestValidation:
    def test_a_good_token(self, provider, key):
        assert validate_id_token(provider, sign(key, claims()), nonce=NONCE)["sub"]

    def test_an_audience_list_naming_us(self, provider, key):
        token = sign(key, claims(aud=[CLIENT_ID, "other"], azp=CLIENT_ID))
        assert validate_id_token(provider, token, nonce=NONCE)

    def test_wrong_audience(self, provider, key):
        assert refused(provider, sign(key, claims(aud="someone-else"))) == "wrong_audience"
        # azp naming us does not make up for an aud that does not.
        token = sign(key, claims(aud="someone-else", azp=CLIENT_ID))
        assert refused(provider, token) == "wrong_audience"

    def test_expired(self, provider, key):
        now = int(time.time())
        assert refused(provider, sign(key, claims(exp=now - 120, iat=now - 600))) == "expired"

    def test_issued_in_the_future(self, provider, key):
        token = sign(key, claims(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200))
        assert refused(provider, token) == "invalid_claim_iat"

    @pytest.mark.parametrize("missing", ["exp", "iat", "sub", "aud", "iss"])
    def test_a_required_claim_missing(self, provider, key, missing):
        assert refused(provider, sign(key, claims(**{missing: None}))) == f"missing_claim_{missing}"

    def test_bad_signature(self, provider, key):
        forged = sign(rsa_key("key-1"), claims())  # same key id, another key
        assert refused(provider, forged) == "bad_signature"
        header, _, signature = sign(key, claims()).split(".")
        tampered = sign(key, claims(sub="someone-else")).split(".")[1]
        assert refused(provider, f"{header}.{tampered}.{signature}") == "bad_signature"

    def test_the_issuer_of_another_partner(self, provider, key):
        assert refused(provider, sign(key, claims(iss=OTHER_ISSUER))) == "wrong_issuer"

    def test_a_replayed_nonce(self, provider, key):
        # An id token from an earlier sign-in carries that sign-in's nonce, not this one's.
        assert refused(provider, sign(key, claims()), nonce="the-new-nonce") == "nonce_mismatch"
        assert refused(provider, sign(key, claims(nonce=None))) == "missing_claim_nonce"

    def test_no_nonce_expected_is_never_accepted(self, provider, key):
        assert refused(provider, sign(key, claims()), nonce="") == "nonce_missing"

    def test_a_shared_secret_or_unsigned_token(self, provider, key):
        secret = OctKey.import_key("a-secret-anyone-could-have-32-bytes!")
        hs256 = jwt.encode({"alg": "HS256", "kid": key.kid}, claims(), secret)
        assert refused(provider, hs256) == "unsupported_algorithm"
        payload = sign(key, claims()).split(".")[1]
        none_header = "eyJhbGciOiJub25lIiwia2lkIjoia2V5LTEifQ"  # {"alg":"none","kid":"key-1"}
        assert refused(provider, f"{none_header}.{payload}.")

    def test_a_new_signing_key_is_fetched_once(self, provider, key, monkeypatch):
        rotated = rsa_key("key-2")
        fetched = []

        def fetch(url, what):
            fetched.append(url)
            return KeySet([key, rotated]).as_dict(private=False)

        monkeypatch.setattr(oidc, "_get_json", fetch)
        assert validate_id_token(provider, sign(rotated, claims()), nonce=NONCE)
        assert fetched == [ISSUER + "/keys"]
        # Now cached: no fetch for the next token.
        assert validate_id_token(provider, sign(rotated, claims()), nonce=NONCE)
        assert len(fetched) == 1

    def test_a_key_the_provider_does_not_publish(self, provider, monkeypatch, key):
        fetched = []

        def fetch(url, what):
            fetched.append(url)
            return KeySet([key]).as_dict(private=False)

        monkeypatch.setattr(oidc, "_get_json", fetch)
        assert refused(provider, sign(rsa_key("stranger"), claims())) == "unknown_signing_key"
        assert len(fetched) == 1  # refetched once, not on and on


class TestMfaRule:
    @pytest.mark.parametrize(
        ("amr_rule", "acr_rule", "token", "expected"),
        [
            (["mfa"], "", {"amr": ["pwd", "mfa"]}, True),
            (["mfa", "otp", "hwk"], "", {"amr": ["hwk"]}, True),
            (["mfa"], "", {"amr": ["pwd"]}, False),
            (["mfa"], "", {"amr": "mfa"}, False),  # not a list: not the claim
            ([], "", {"amr": ["mfa"]}, False),  # no rule: never
            ([], "urn:example:loa:2", {"acr": "urn:example:loa:2"}, True),
            ([], "urn:example:loa:2", {"acr": "urn:example:loa:1"}, False),
            (["mfa"], "gold", {}, False),
        ],
    )
    def test_which_claims_count_as_multi_factor(self, amr_rule, acr_rule, token, expected):
        rule = IdentityProvider(mfa_amr=amr_rule, mfa_acr=acr_rule)
        assert rule.asserts_mfa(token) is expected


class TestMatching:
    """identity_sign_in with validated claims: which account, if any, they sign in as."""

    def test_claims_of_another_partner_s_issuer(self, provider, officer):
        with pytest.raises(SignInRefused) as raised:
            identity_sign_in(provider=provider, claims=claims(iss=OTHER_ISSUER))
        assert raised.value.reason == "wrong_issuer"

    def test_an_identity_linked_through_another_partner_s_provider(
        self, provider, school, monkeypatch, teacher
    ):
        # Two partners behind one issuer (a shared tenant): the identity stays with its provider.
        monkeypatch.setenv("SCHOOL_SSO_SECRET", "s")
        school_provider = provider_create(
            partner=school,
            issuer=ISSUER,
            client_id="school-client",
            domains=["school.example"],
            secret_env="SCHOOL_SSO_SECRET",
        )
        identity_sign_in(
            provider=school_provider, claims=claims(email="teacher@school.example", sub="t")
        )
        with pytest.raises(SignInRefused) as raised:
            identity_sign_in(provider=provider, claims=claims(sub="t"))
        assert raised.value.reason == "identity_of_another_provider"

    def test_an_unverified_email_never_links(self, provider, officer):
        with pytest.raises(SignInRefused) as raised:
            identity_sign_in(provider=provider, claims=claims(email_verified=False))
        assert raised.value.reason == "no_verified_email"
