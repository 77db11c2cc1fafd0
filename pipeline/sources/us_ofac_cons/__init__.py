"""US OFAC consolidated non-SDN lists -> staged tables.

The consolidated files (``CONS_ADVANCED.XML``, ``CONSOLIDATED.XML``, ``cons_*.csv``) have the SDN
files' layouts, so this source reuses the layout parsers of :mod:`pipeline.sources.us_ofac_sdn`
and their lookups; only ``source.yml`` (URLs, list, expected row counts) is its own.
"""

from __future__ import annotations

from pipeline.sources.us_ofac_sdn import parse

__all__ = ["parse"]
