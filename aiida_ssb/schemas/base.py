"""The base of every record schema: :class:`SsbModel`, a :class:`~aiida_ssb.model.UnitModel` (unit-suffixed
names, quantities with any pint unit, unknown keys refused, numbers finite)."""

from __future__ import annotations

from aiida_ssb.model import DOI_PATTERN, SUFFIX_UNITS, UnitModel, bare_name, unit_of_field

__all__ = ['DOI_PATTERN', 'SUFFIX_UNITS', 'SsbModel', 'bare_name', 'unit_of_field']


class SsbModel(UnitModel):
    """Base of the schemas of records (materials, processes, cells, measurements, literature values)."""
