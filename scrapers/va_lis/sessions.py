"""Tracker session names -> LIS session codes, and back to a session from a file's dates. Pure.

The tracker names a Virginia session by its year: ``"2020"`` is the regular session of 2020,
``"2020S1"`` its special session I, ``"2020S2"`` special session II (up to ``S8``). LIS names
the same sessions with a code that changed style in 2025:

* up to the 2024 sessions, the old style ``YY`` + ``n``: ``"201"`` for 2020, ``"202"`` for
  2020 special session I, ``"241"`` for 2024;
* from 2025 on, the new style ``YYYY`` + ``n``: ``"20251"`` for 2025, ``"20261"`` for 2026;

where ``n`` is 1 for the regular session and 1 + k for special session k (Open States'
``SESSION_SITE_IDS`` in scrapers/va/common.py lists 2011 to 2022 in the old style; sources.md
section 9 gives ``20251``/``20261`` and ``241``/``231``). Years before 2000 are refused: the
old style's two digits would repeat a century later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

#: The first year whose LIS code is written in the new YYYY+n style.
NEW_STYLE_FROM = 2025
FIRST_YEAR = 2000
MAX_SPECIAL = 8

_SESSION = re.compile(r"^(\d{4})(?:S([1-9]))?$")


def lis_session_code(session: str) -> str:
    """``"2020"`` -> ``"201"``, ``"2020S1"`` -> ``"202"``, ``"2026"`` -> ``"20261"``.

    Raises ValueError with a one-line reason for anything that is not a session name.
    """
    match = _SESSION.match(session)
    if match is None:
        raise ValueError(
            f'{session!r} is not a Virginia session name (use the year, "2020", for the '
            f'regular session and "2020S1" for its special session I)'
        )
    year = int(match.group(1))
    special = int(match.group(2) or 0)
    if year < FIRST_YEAR:
        raise ValueError(f"{session!r}: sessions before {FIRST_YEAR} are not supported")
    if special > MAX_SPECIAL:
        raise ValueError(f"{session!r}: special sessions go up to S{MAX_SPECIAL}")
    number = 1 + special
    if year >= NEW_STYLE_FROM:
        return f"{year}{number}"
    return f"{year % 100:02d}{number}"


def session_from_dates(introduced: Iterable[date]) -> str | None:
    """The regular session a BILLS.CSV belongs to, from its bills' introduction dates.

    A regular session's bills are prefiled from November of the year before, and the odd
    year's file carries the even year's continued bills, so the latest introduction date,
    not the earliest or the most common, names the session year. None when there is no date.
    """
    latest = max(introduced, default=None)
    return str(latest.year) if latest is not None else None
