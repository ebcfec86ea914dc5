"""Bearer tokens: random, shown once, stored only as a SHA-256 hash (fast lookup by unique index)."""

from __future__ import annotations

import hashlib
import secrets

PERSONAL_PREFIX = "vrup_"
CLIENT_PREFIX = "vruc_"


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    return token[:12]
