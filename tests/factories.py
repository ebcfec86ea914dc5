"""Factories for the test suite: build records through the same services the product uses."""

from __future__ import annotations

import itertools

from partners.models import Partner, Role, User
from partners.services import api_client_create, partner_create, personal_token_issue, user_create

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"


def make_partner(
    slug: str | None = None, *, sector: str = "police", name: str | None = None
) -> Partner:
    n = next(_seq)
    slug = slug or f"partner-{n}"
    return partner_create(slug=slug, name=name or f"Partner {n}", sector=sector)


def make_user(
    partner: Partner, role: str = Role.PRACTITIONER, *, email: str | None = None, name: str = ""
) -> User:
    n = next(_seq)
    return user_create(
        partner=partner,
        role=role,
        email=email or f"user{n}@{partner.slug}.example",
        password=PASSWORD,
        full_name=name or f"User {n}",
    )


def token_for(user: User) -> str:
    return personal_token_issue(user=user)[1]


def client_token(partner: Partner, scopes: str = "read,write,sync", name: str | None = None) -> str:
    return api_client_create(partner=partner, name=name or f"system-{next(_seq)}", scopes=scopes)[1]
