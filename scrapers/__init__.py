"""The registry of bill sources: name -> class implementing ``tracker.source.Source``.

One module per source; each names its upstream URLs, formats and quirks in its docstring.
"""

from __future__ import annotations

from collections.abc import Mapping

from scrapers.us_govinfo import UsGovinfo
from tracker.source import SourceFactory

REGISTRY: Mapping[str, SourceFactory] = {
    source.info.name: source
    for source in (
        UsGovinfo,
    )
}
