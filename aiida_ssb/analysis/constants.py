"""Constants of the analyses that the layers above read without importing the analyses (numpy, scipy,
pydantic): the command line's start-up time (:mod:`aiida_ssb.query.fast`)."""

from __future__ import annotations

__all__ = ['STANDARD_RETENTION_CYCLES']

#: cycles at which retention is reported by default (the cells table can filter at these)
STANDARD_RETENTION_CYCLES = (10, 20, 50, 100, 150, 200, 300, 400, 500, 800, 1000)
