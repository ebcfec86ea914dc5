import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.identifiers import InvalidIdentifier, normalise, pnc_check_letter


@pytest.mark.parametrize(
    ("scheme", "value", "normal"),
    [
        ("nhs", "943 476 5919", "9434765919"),
        ("nhs", "9434765870", "9434765870"),
        ("upn", "A801200100001", None),
        ("pnc", "12/345678", None),
        ("ni", "ab 12 34 56 c", "AB123456C"),
        ("local", "  RMS-000123 ", "RMS-000123"),
    ],
)
def test_it_accepts_and_normalises_valid_identifiers(scheme, value, normal):
    if scheme == "upn":
        value = _valid_upn("801200100001")
        normal = value
    if scheme == "pnc":
        value = value + pnc_check_letter("12", "0345678")
        normal = "12/0345678" + value[-1]
    assert normalise(scheme, value) == normal


def _valid_upn(body: str) -> str:
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    total = sum(weight * int(ch) for weight, ch in enumerate(body, start=2))
    return letters[total % 23] + body


@pytest.mark.parametrize(
    ("scheme", "value", "reason"),
    [
        ("nhs", "9434765918", "check digit"),
        ("nhs", "123456789", "10 digits"),
        ("nhs", "abcdefghij", "10 digits"),
        ("upn", "Z801200100001", "check letter"),
        ("upn", "A80120010000", "13 characters"),
        ("pnc", "12/345678Z", "check letter"),
        ("pnc", "12-345678A", "looks like"),
        ("ni", "QQ123456E", "looks like"),
        ("ni", "GB123456A", "looks like"),
        ("local", "", "1 to 64"),
        ("passport", "123", "not an identifier scheme"),
    ],
)
def test_it_rejects_invalid_identifiers_saying_why(scheme, value, reason):
    with pytest.raises(InvalidIdentifier, match=reason):
        normalise(scheme, value)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_exactly_one_check_digit_completes_any_nhs_number_or_none_does(prefix):
    valid = []
    for digit in "0123456789":
        try:
            normalise("nhs", prefix + digit)
            valid.append(digit)
        except InvalidIdentifier:
            pass
    assert len(valid) <= 1


@given(st.text(alphabet="0123456789", min_size=11, max_size=11).map(lambda s: s + "1"))
def test_every_upn_body_has_exactly_one_check_letter(body):
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    valid = [letter for letter in letters if _ok("upn", letter + body)]
    assert len(valid) == 1


def _ok(scheme, value):
    try:
        normalise(scheme, value)
        return True
    except InvalidIdentifier:
        return False
