"""The session part of a bill key for bills read from the aggregators (LegiScan, Open States).

One bill, one key: a bill an aggregator fills in must get the key the jurisdiction's direct
source gives it, or the same bill would be stored twice. The tracker's session names are

* a Congress number for ``us`` (``"119"``), as us-govinfo and us-congress write it;
* Texas' legislature number plus ``R`` or the called session's number (``"89R"``, ``"891"``),
  as tx-tlo writes it;
* Illinois' General Assembly number (``"104"`` for 2025-26), as il-ilga writes it;
* the first year elsewhere (``"2025"``): New York's and Pennsylvania's two-year sessions by
  their first year, as ny-openleg and pa-palegis write them; special sessions as
  ``"2024S1"`` (Virginia's style, va-lis) or, in Pennsylvania, ``"2025-1"`` (pa-palegis).

LegiScan describes a session by ``year_start``, ``special`` and a name ("89th Legislature 1st
Called Session", "2024 Special Session I"); Open States by an identifier of each state's own
style ("2025-2026", "89", "891", "2024S1", "104th"). Pure functions; a name this module cannot
read still gives a key (documented below), never an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: The fifty states and the District of Columbia, as jurisdiction codes.
STATES: tuple[str, ...] = (
    "al", "ak", "az", "ar", "ca", "co", "ct", "de", "dc", "fl", "ga", "hi", "id", "il", "in",
    "ia", "ks", "ky", "la", "me", "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne", "nv", "nh",
    "nj", "nm", "ny", "nc", "nd", "oh", "ok", "or", "pa", "ri", "sc", "sd", "tn", "tx", "ut",
    "vt", "va", "wa", "wv", "wi", "wy",
)  # fmt: skip
#: LegiScan covers the states, the District and Congress; Open States the states, the
#: District and Puerto Rico.
LEGISCAN_STATES: tuple[str, ...] = (*STATES, "us")
OPENSTATES_STATES: tuple[str, ...] = (*STATES, "pr")

#: The first Congress met in 1789; each lasts two years.
FIRST_CONGRESS_YEAR = 1789
#: The 89th Texas Legislature convened in 2025: number = (odd year - 1847) / 2.
TEXAS_BASE_YEAR = 1847
#: The 104th Illinois General Assembly convened in 2025: number = (odd year - 1817) / 2.
ILLINOIS_BASE_YEAR = 1817

_ORDINAL = r"(\d+)(?:st|nd|rd|th)"
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8}
_SPECIAL_ORDINAL = re.compile(_ORDINAL + r"\s+(?:special|extraordinary|called)", re.I)
_SPECIAL_ROMAN = re.compile(r"\b(?:special|extraordinary) session\s+([IVX]+)\b", re.I)
_SPECIAL_NUMBER = re.compile(
    r"\b(?:special|extraordinary) session\s+(?:no\.?\s*|#)?(\d{1,2})\b", re.I
)
_TEXAS_LEGISLATURE = re.compile(_ORDINAL + r"\s+legislature", re.I)
_GENERAL_ASSEMBLY = re.compile(_ORDINAL + r"\s+general assembly", re.I)
_ORDINAL_ONLY = re.compile(r"^" + _ORDINAL + r"$")
_TWO_YEARS = re.compile(r"^(\d{4})-\d{4}$")
_TEXAS_REGULAR = re.compile(r"^(\d{2})R?$")


def congress_of(year: int) -> int:
    """The Congress sitting in ``year`` (2025 and 2026 -> 119)."""
    return (year - FIRST_CONGRESS_YEAR) // 2 + 1


def special_number(name: str) -> int | None:
    """``"2024 1st Special Session"``, ``"Special Session II"``, ``"Special Session #2"`` -> n."""
    for pattern in (_SPECIAL_ORDINAL, _SPECIAL_NUMBER):
        found = pattern.search(name)
        if found:
            return int(found.group(1))
    roman = _SPECIAL_ROMAN.search(name)
    return _ROMAN.get(roman.group(1).upper()) if roman else None


def legiscan_session(*, state: str, session: Mapping[str, Any]) -> str:
    """The tracker session of a LegiScan ``session`` object of ``state`` (``"TX"``, ``"US"``).

    A special session whose name gives no number is keyed ``{year}S-{session_id}``, unique and
    stable though it will not line up with a direct source.
    """
    year = int(session["year_start"])
    special = bool(session.get("special"))
    names = [str(session.get(key) or "") for key in ("session_name", "session_title")]
    state = state.upper()
    if state == "US":
        return str(congress_of(year))
    number = next((n for n in map(special_number, names) if n), None) if special else None
    name = " / ".join(names)
    if state == "TX":
        found = _TEXAS_LEGISLATURE.search(name)
        legislature = int(found.group(1)) if found else (year - TEXAS_BASE_YEAR) // 2
        if not special:
            return f"{legislature}R"
        return f"{legislature}{number}" if number else f"{legislature}S-{session['session_id']}"
    if state == "IL":
        found = _GENERAL_ASSEMBLY.search(name)
        assembly = int(found.group(1)) if found else (year - ILLINOIS_BASE_YEAR) // 2
        if not special:
            return str(assembly)
        return f"{assembly}S{number}" if number else f"{assembly}S-{session['session_id']}"
    if not special:
        return str(year)
    if number and state == "PA":
        return f"{year}-{number}"
    return f"{year}S{number}" if number else f"{year}S-{session['session_id']}"


def openstates_session(*, jurisdiction: str, identifier: str) -> str:
    """The tracker session of an Open States session ``identifier`` in ``jurisdiction``."""
    two_years = _TWO_YEARS.match(identifier)
    if two_years:
        return two_years.group(1)
    if jurisdiction == "tx":
        regular = _TEXAS_REGULAR.match(identifier)
        if regular:
            return f"{regular.group(1)}R"
    if jurisdiction == "il":
        assembly = _ORDINAL_ONLY.match(identifier)
        if assembly:
            return assembly.group(1)
    return identifier
