"""Query helpers: the cells and samples tables (pandas DataFrames) with filters across provenance.

::

    from aiida import load_profile
    load_profile()

    from aiida_ssb.query import cells, samples

    cells(filters=['capacity_retention_percent_at_100 >= 80', 'electrolyte.ball_milling.duration_min >= 45'])

Per-cycle and per-spectrum tables: :func:`cycles` and :func:`spectra` (:mod:`aiida_ssb.query.per_record`).

The names are imported on first use (PEP 562), so that importing a light submodule such as
:mod:`aiida_ssb.query.fields` or :mod:`aiida_ssb.query.fast` does not import AiiDA's ORM and pandas.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    'Filter',
    'QueryError',
    'cell_fields',
    'cells',
    'cycles',
    'describe_fields',
    'parse_filter',
    'sample_fields',
    'samples',
    'spectra',
]


def __getattr__(name: str) -> Any:
    if name in ('cycles', 'spectra'):
        from aiida_ssb.query import per_record

        return getattr(per_record, name)
    if name in __all__:
        from aiida_ssb.query import tables

        return getattr(tables, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
