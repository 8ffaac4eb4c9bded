"""Query helpers: the cells and samples tables (pandas DataFrames) with filters across provenance.

::

    from aiida import load_profile
    load_profile()

    from aiida_ssb.query import cells, samples

    cells(filters=['capacity_retention_percent_at_100 >= 80', 'electrolyte.ball_milling.duration_min >= 45'])

Per-cycle and per-spectrum tables: :func:`cycles` and :func:`spectra` (:mod:`aiida_ssb.query.per_record`).
"""

from aiida_ssb.query.tables import (
    Filter,
    QueryError,
    cell_fields,
    cells,
    describe_fields,
    parse_filter,
    sample_fields,
    samples,
)

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


def __getattr__(name: str):
    """``cycles`` and ``spectra`` are imported when first used (the command line's start-up stays short)."""
    if name in ('cycles', 'spectra'):
        from aiida_ssb.query import per_record

        return getattr(per_record, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
