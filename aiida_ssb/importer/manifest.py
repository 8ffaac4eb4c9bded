"""Lab manifest (YAML) -> validated plan -> graph; idempotent, and no entry is ever stored half.

The importer is a package of small modules; this module keeps the public names in one place:

* :mod:`~aiida_ssb.importer.yamlpos`: YAML that remembers where every value was written, with bounds (size,
  nesting, alias expansion, plain tags only);
* :mod:`~aiida_ssb.importer.problems`: :class:`Problem` (a message with its place) and :class:`ManifestError`;
* :mod:`~aiida_ssb.importer.plan`: :func:`plan_import` reads the whole manifest, validates every entry
  (schemas, units, finite numbers, references between entries and to the database, fractions, file paths)
  and reports *every* problem at once; only a valid manifest becomes a :class:`Plan`;
* :mod:`~aiida_ssb.importer.existing`: what of a plan is already stored: entries that exist with the same
  content are skipped (importing twice changes nothing; an extended manifest adds only its new entries); an
  entry that exists with *different* content, a raw file stored for another sample or listed twice, is a
  problem, never silently overwritten or duplicated;
* :mod:`~aiida_ssb.importer.store`: :func:`run_import` stores a plan in transactions (complete entries only,
  batched so that SQLite's write lock is never held for minutes) into the campaign's group
  (``ssb/campaign/<name>``); :func:`import_manifest` plans, stores and re-plans after a concurrent writer.
"""

from __future__ import annotations

from aiida_ssb.importer.existing import differences as _differences
from aiida_ssb.importer.existing import float_equal as _float_equal
from aiida_ssb.importer.plan import (
    PROCESS_KEYS,
    TOP_LEVEL_KEYS,
    Plan,
    Planned,
    PlannedMeasurement,
    PlannedProcess,
    plan_import,
    resolve_measurement_file,
)
from aiida_ssb.importer.problems import Collector as _Collector
from aiida_ssb.importer.problems import ManifestError, Problem
from aiida_ssb.importer.store import BATCH_SECONDS, ImportReport, import_manifest, run_import
from aiida_ssb.schemas.measurement import MeasurementEntry, resolve_technique

__all__ = [
    'BATCH_SECONDS',
    'PROCESS_KEYS',
    'TOP_LEVEL_KEYS',
    'ImportReport',
    'ManifestError',
    'Plan',
    'Planned',
    'PlannedMeasurement',
    'PlannedProcess',
    'Problem',
    'import_manifest',
    'plan_import',
    'resolve_expected',
    'resolve_measurement_file',
    'run_import',
]

# names of the former single module, kept for code that imported them
_ = (_Collector, _differences, _float_equal)


def resolve_expected(entry: MeasurementEntry) -> tuple[str | None, str | None]:
    """(expected measurement kind, technique code) of a measurement entry."""
    return resolve_technique(entry.technique)
