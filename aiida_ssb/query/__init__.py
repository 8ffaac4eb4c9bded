"""Query helpers: the cells and samples tables (pandas DataFrames) with filters across provenance.

::

    from aiida import load_profile
    load_profile()

    from aiida_ssb.query import cells, samples

    cells(filters=['capacity_retention_percent_at_100 >= 80', 'electrolyte.ball_milling.duration_min >= 45'])
"""

from aiida_ssb.query.tables import Filter, QueryError, cell_fields, cells, parse_filter, sample_fields, samples

__all__ = ['Filter', 'QueryError', 'cell_fields', 'cells', 'parse_filter', 'sample_fields', 'samples']
