"""``va-lis``: Virginia's Legislative Information System data files, as a bill source.

* ``source``: the :class:`VaLis` source (upstream URLs, files, change detection);
* ``parse``: one session's CSV files -> bill records (pure; the files' quirks);
* ``csvfiles``: decoding and reading the CSV files (BOM, stray bytes, ragged rows);
* ``rules``: the action rule table (HISTORY.CSV texts -> Open States classes);
* ``sessions``: tracker session names (``"2020"``, ``"2020S1"``) -> LIS codes (``201``).
"""

from scrapers.va_lis.source import VaLis

__all__ = ["VaLis"]
