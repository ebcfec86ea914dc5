"""Fixtures for report queries: the programmes tests' cases, referrals and transitions."""

from tests.programmes.conftest import (  # noqa: F401 - fixtures
    case,
    divert,
    make_case,
    move,
    other_coordinator,
    programmes,
    refer,
)
