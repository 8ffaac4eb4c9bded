"""Read side of the query index (the writers live in :mod:`aiida_ssb.data.index`, beside the data they index)."""

from __future__ import annotations

from aiida_ssb.data.index import INDEX_EXTRA, MATERIAL_FIELDS, latest_cell_summary

__all__ = ['INDEX_EXTRA', 'MATERIAL_FIELDS', 'latest_cell_summary']
