"""Identifier schemes and their real validation. Each validator returns the normalised value."""

from __future__ import annotations

import re

from django.db import models


class Scheme(models.TextChoices):
    NHS = "nhs", "NHS number"
    UPN = "upn", "Unique Pupil Number"
    PNC = "pnc", "Police National Computer ID"
    NI = "ni", "National Insurance number"
    LOCAL = "local", "Partner's local id"


class InvalidIdentifier(ValueError):
    pass


def _nhs(value: str) -> str:
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{10}", digits):
        raise InvalidIdentifier("An NHS number has 10 digits.")
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    if check == 10 or check != int(digits[9]):
        raise InvalidIdentifier(
            "This NHS number's check digit is wrong: check it for a typing error."
        )
    return digits


# DfE's check-letter alphabet: 23 letters, no I, O or S.
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def _upn(value: str) -> str:
    upn = re.sub(r"\s", "", value).upper()
    if not re.fullmatch(rf"[{_UPN_LETTERS}]\d{{11}}[\d{_UPN_LETTERS}]", upn):
        raise InvalidIdentifier(
            "A Unique Pupil Number has 13 characters: a check letter, 11 digits, then a digit (or a letter for a temporary UPN)."
        )
    total = 0
    for weight, char in enumerate(upn[1:], start=2):
        total += weight * (int(char) if char.isdigit() else _UPN_LETTERS.index(char))
    if _UPN_LETTERS[total % 23] != upn[0]:
        raise InvalidIdentifier(
            "This Unique Pupil Number's check letter is wrong: check it for a typing error."
        )
    return upn


_PNC_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"


def pnc_check_letter(year2: str, serial7: str) -> str:
    return _PNC_LETTERS[int(year2 + serial7) % 23]


def _pnc(value: str) -> str:
    match = re.fullmatch(r"(\d{2}|\d{4})/(\d{1,7})([A-Z])", re.sub(r"\s", "", value).upper())
    if not match:
        raise InvalidIdentifier(
            "A PNC ID looks like 12/345678A: year, slash, serial number, check letter."
        )
    year, serial, letter = match.groups()
    year2, serial7 = year[-2:], serial.zfill(7)
    if pnc_check_letter(year2, serial7) != letter:
        raise InvalidIdentifier("This PNC ID's check letter is wrong: check it for a typing error.")
    return f"{year2}/{serial7}{letter}"


_NI = re.compile(r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")


def _ni(value: str) -> str:
    ni = re.sub(r"\s", "", value).upper()
    if not _NI.fullmatch(ni):
        raise InvalidIdentifier(
            "A National Insurance number looks like QQ123456C: two letters, six digits, A–D."
        )
    return ni


def _local(value: str) -> str:
    local = value.strip()
    if not 1 <= len(local) <= 64:
        raise InvalidIdentifier("A local id has 1 to 64 characters.")
    return local


_VALIDATORS = {
    Scheme.NHS: _nhs,
    Scheme.UPN: _upn,
    Scheme.PNC: _pnc,
    Scheme.NI: _ni,
    Scheme.LOCAL: _local,
}


def normalise(scheme: str, value: str) -> str:
    """Validate an identifier and return its canonical form, or raise InvalidIdentifier."""
    if scheme not in Scheme.values:
        raise InvalidIdentifier(
            f"'{scheme}' is not an identifier scheme; use one of: {', '.join(Scheme.values)}."
        )
    if not isinstance(value, str):
        raise InvalidIdentifier("An identifier value is text.")
    return _VALIDATORS[Scheme(scheme)](value)
