"""The registry of bill sources: name -> class implementing ``tracker.source.Source``.

One module per source; each names its upstream URLs, formats and quirks in its docstring.
"""

from __future__ import annotations

from collections.abc import Mapping

from scrapers.il_ilga import IlIlga
from scrapers.legiscan import Legiscan
from scrapers.ny_openleg import NyOpenleg
from scrapers.openstates import Openstates
from scrapers.pa_palegis import PaPalegis
from scrapers.tx_tlo import TxTlo
from scrapers.us_congress import UsCongress
from scrapers.us_govinfo import UsGovinfo
from scrapers.va_lis import VaLis
from tracker.source import SourceFactory

REGISTRY: Mapping[str, SourceFactory] = {
    source.info.name: source
    for source in (
        UsGovinfo,
        TxTlo,
        IlIlga,
        VaLis,
        NyOpenleg,
        PaPalegis,
        UsCongress,
        Openstates,
        Legiscan,
    )
}
