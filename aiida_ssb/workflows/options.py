"""The options of a cell's analyses: what its next run uses (its manifest's ``analysis:`` choices, under the
options remembered from its last successful run, under ``--set``), where each comes from, and what a run
remembers. Kept apart from :mod:`aiida_ssb.workflows.cell` so that ``aiida-ssb show`` reads them without
importing the analyses (scipy and every process function)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiida import orm

from aiida_ssb.analysis.registry import canonical_options, merge_options

__all__ = ['OPTIONS_EXTRA', 'SOURCES_EXTRA', 'cell_options', 'option_sources', 'remember_options']

#: the extra of a cell holding the options of its last fully successful analysis run
OPTIONS_EXTRA = 'ssb_options'


def cell_options(cell: orm.Data, given: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The options of a cell's next analysis: its recorded ``analysis:`` choices, under the options remembered
    from its last fully successful run, under ``given``."""
    recorded = cell.base.attributes.get('analysis', None) or {}
    remembered = cell.base.extras.get(OPTIONS_EXTRA, None) or {}
    return merge_options(recorded, remembered, given)


def remember_options(cell: orm.Data, options: Mapping[str, Any], failed: set[str]) -> dict[str, dict[str, Any]]:
    """Store a run's options on the cell (the extra :data:`OPTIONS_EXTRA`) for its next runs: every section but
    those of the ``failed`` analyses (those that failed on every record they ran on: an option that fits no record
    is not kept, and what was remembered for that analysis stays; an option that fits one of a cell's two cycling
    records is kept). Returns what is remembered now."""
    before = canonical_options(cell.base.extras.get(OPTIONS_EXTRA, None))
    remembered = {
        section: dict(values) for section, values in canonical_options(options).items() if section not in failed
    }
    for section in failed & set(before):
        remembered[section] = before[section]
    if remembered != before:
        cell.base.extras.set(OPTIONS_EXTRA, remembered)
    return remembered


def option_sources(cell: orm.Data, given: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Where each option of a cell's next run comes from, by ``section.key``: ``manifest`` (the cell's recorded
    ``analysis:`` choices), ``stored on the cell`` (remembered from an earlier run, where it differs from the
    manifest) or ``--set`` (given now). Options not listed are the analyses' defaults."""
    recorded = canonical_options(cell.base.attributes.get('analysis', None) or {})
    remembered = canonical_options(cell.base.extras.get(OPTIONS_EXTRA, None) or {})
    given = canonical_options(given)
    sources: dict[str, str] = {}
    for section, values in recorded.items():
        for key in values:
            sources[f'{section}.{key}'] = 'manifest'
    for section, values in remembered.items():
        for key, value in values.items():
            if recorded.get(section, {}).get(key, _MISSING) != value:
                sources[f'{section}.{key}'] = 'stored on the cell'
    for section, values in given.items():
        for key in values:
            sources[f'{section}.{key}'] = '--set'
    return sources


#: the extra of an analysis run saying where each of its options came from (:func:`option_sources`)
SOURCES_EXTRA = 'ssb_option_sources'
_MISSING = object()
