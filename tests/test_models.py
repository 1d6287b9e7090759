"""Bill keys and identifiers: one spelling everywhere."""

from __future__ import annotations

import pytest

from tracker.errors import InvalidBillKey
from tracker.models import BillKey, normalize_identifier


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HR 2471", "HR 2471"),
        ("hr2471", "HR 2471"),
        ("H.R. 2471", "HR 2471"),
        ("HB0001", "HB 1"),
        ("HB00001", "HB 1"),
        ("S.J.Res.8", "SJRES 8"),
        ("sconres7", "SCONRES 7"),
        ("HJR 0012", "HJR 12"),
        ("  SB 34 ", "SB 34"),
    ],
)
def test_normalize_identifier(raw: str, expected: str) -> None:
    assert normalize_identifier(raw) == expected


@pytest.mark.parametrize("raw", ["", "1234", "HB", "S1234B", "HB 12 13", "H-B 1"])
def test_normalize_identifier_refuses(raw: str) -> None:
    with pytest.raises(InvalidBillKey):
        normalize_identifier(raw)


def test_bill_key_round_trip() -> None:
    key = BillKey.parse("us/117/hr2471")
    assert str(key) == "us/117/HR 2471"
    assert key == BillKey("us", "117", "HR 2471")
    assert key.type_letters == "HR"


@pytest.mark.parametrize("text", ["us/117", "usa/117/HR 1", "us//HR 1", "us/117/HR 01x"])
def test_bill_key_refuses(text: str) -> None:
    with pytest.raises(InvalidBillKey):
        BillKey.parse(text)


def test_bill_key_requires_normalized_identifier() -> None:
    with pytest.raises(InvalidBillKey):
        BillKey("va", "2020", "HB0001")
