"""Everything a sample's page shows, read from the graph: the record, its layers and derived values, its
history, its raw files, the latest result of each analysis digested into value, interval, quality and
flags, the analysis runs of a cell and the differences between two of them, and the differences between
the histories of several cells.

Result summaries are read generically (numbers with unit suffixes, ``*_stderr_*`` intervals, quality
metrics, ``flags``/``warnings``/``accepted``) so that a change in an analysis' output fields changes what
the page lists, not whether it works.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiida import orm

from aiida_ssb.data.campaign import CAMPAIGN_PREFIX
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.nodes import pk_of
from aiida_ssb.data.sample import CURRENT_VERSIONS, find_sample, load_sample
from aiida_ssb.query import tables
from aiida_ssb.query.history import history, record_rows, render_history
from aiida_ssb.query.index import INDEX_EXTRA
from aiida_ssb.query.records import cell_analysis_runs

__all__ = [
    'Digest',
    'Overview',
    'analysis_runs',
    'compare_runs',
    'digest',
    'history_differences',
    'overview',
    'raw_files',
]

#: summary keys that are bookkeeping, not results
_BOOKKEEPING = {
    'analysis',
    'sample_id',
    'electrolyte_sample_id',
    'options',
    'uuid',
    'sources',
    'n_summaries',
    'masses_mg',
    'version',
}
#: name fragments of quality metrics
_QUALITY = (
    'chi2',
    'chi_square',
    'r2',
    'r_squared',
    'rmse',
    'residual',
    'kk_',
    'n_points',
    'n_cycles',
    'dof',
    'aic',
    'bic',
)


@dataclass
class Digest:
    """A result summary, read for a page: its method, headline values (with their interval where one is
    stored), quality metrics and flags."""

    analysis: str
    method: str
    values: dict[str, Any] = field(default_factory=dict)
    intervals: dict[str, str] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    flags: list[dict[str, Any]] = field(default_factory=list)
    uuid: str = ''
    created: str = ''


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool)) and not (isinstance(value, float) and not math.isfinite(value))


def _flags(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``[{'name', 'passed', 'reason'}]`` from a summary's flags (dicts or strings), warnings and verdicts."""
    found = []
    for item in summary.get('flags', []) or []:
        if isinstance(item, Mapping):
            name = item.get('rule') or item.get('name') or item.get('flag') or item.get('code') or 'flag'
            reason = item.get('reason') or item.get('message') or item.get('detail') or ''
            passed = item.get('passed')
            found.append({'name': str(name), 'passed': passed, 'reason': str(reason)})
        else:
            found.append({'name': str(item), 'passed': False, 'reason': ''})
    for item in summary.get('warnings', []) or []:
        found.append({'name': 'warning', 'passed': False, 'reason': str(item)})
    if summary.get('accepted') is False:
        found.append({'name': 'rejected', 'passed': False, 'reason': 'the fit is above its quality threshold'})
    if summary.get('reference_extrapolated') is True:
        found.append({'name': 'extrapolated', 'passed': False, 'reason': 'the reference value is extrapolated'})
    return found


def digest(summary: Mapping[str, Any], *, uuid: str = '', created: str = '') -> Digest:
    """Method, values, intervals, quality and flags of a result summary."""
    analysis = str(summary.get('analysis', ''))
    method = summary.get('method') or summary.get('method_used') or summary.get('circuit') or analysis
    result = Digest(analysis, str(method), uuid=uuid, created=created)
    quality = summary.get('quality')
    if isinstance(quality, Mapping):
        result.quality.update({k: v for k, v in quality.items() if _scalar(v)})
    stderr = {}
    for key, value in summary.items():
        if '_stderr' in key and isinstance(value, (int, float)):
            stderr[key.replace('_stderr', '')] = value
    for key, value in summary.items():
        if key in _BOOKKEEPING or key in ('flags', 'warnings', 'quality') or '_stderr' in key:
            continue
        if not _scalar(value) or (isinstance(value, bool) and key == 'accepted'):
            continue
        if any(fragment in key for fragment in _QUALITY):
            result.quality[key] = value
            continue
        result.values[key] = value
        if key in stderr and isinstance(value, (int, float)):
            result.intervals[key] = f'± {stderr[key]:.3g}'
        for low, high in ((f'{key}_low', f'{key}_high'), (f'{key}_min', f'{key}_max')):
            if isinstance(summary.get(low), (int, float)) and isinstance(summary.get(high), (int, float)):
                result.intervals[key] = f'[{summary[low]:.4g}, {summary[high]:.4g}]'
    for key in list(result.values):
        if key.endswith(('_low', '_high')) and key.rsplit('_', 1)[0] in result.intervals:
            result.values.pop(key)
    for key, value in summary.items():  # lists of parts (onsets, regimes): their values that carry an interval
        if key in _BOOKKEEPING or not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            continue
        for position, item in enumerate(value[:10]):
            for name, number in item.items():
                if not isinstance(number, (int, float)) or isinstance(number, bool) or '_stderr' in name:
                    continue
                unit = name.rsplit('_', 1)[-1]
                low, high = item.get(f'band_low_{unit}'), item.get(f'band_high_{unit}')
                item_stderr = (
                    item.get(name.replace(f'_{unit}', f'_stderr_{unit}')) if name.endswith(f'_{unit}') else None
                )
                label = f'{key}[{position}].{name}'
                if isinstance(low, (int, float)) and isinstance(high, (int, float)) and not name.startswith('band_'):
                    result.values[label] = number
                    result.intervals[label] = f'[{low:.4g}, {high:.4g}]'
                elif isinstance(item_stderr, (int, float)):
                    result.values[label] = number
                    result.intervals[label] = f'± {item_stderr:.3g}'
    result.flags = _flags(summary)
    return result


@dataclass
class Overview:
    """A sample for its page."""

    sample_id: str
    kind: str
    pk: int
    uuid: str
    record: dict[str, Any]
    derived: dict[str, Any]
    layers: list[dict[str, Any]]
    fabrication: list[dict[str, Any]]
    composition: list[dict[str, Any]]
    index: dict[str, Any]
    history: list[str]
    results: list[Digest]
    campaigns: list[str]


def _campaigns(node: orm.Node) -> list[str]:
    query = orm.QueryBuilder().append(orm.Node, filters={'id': node.pk}, tag='node')
    query.append(
        orm.Group,
        with_node='node',
        filters={'type_string': 'core', 'label': {'like': CAMPAIGN_PREFIX + '%'}},
        project='label',
    )
    return sorted(label[len(CAMPAIGN_PREFIX) :] for label in query.all(flat=True))


def latest_digests(sample_id: str) -> list[Digest]:
    """The newest summary of every analysis recorded for a sample (one per analysis and measured record)."""
    query = orm.QueryBuilder().append(
        orm.Dict,
        filters={'attributes.sample_id': sample_id, 'attributes': {'has_key': 'analysis'}},
        project=['*'],
        tag='summary',
    )
    query.order_by({'summary': {'ctime': 'desc'}})
    seen: dict[str, int] = {}
    digests = []
    for (node,) in query.iterall():
        data = node.get_dict()
        analysis = data.get('analysis', '')
        if not isinstance(analysis, str):
            continue
        seen[analysis] = seen.get(analysis, 0) + 1
        if seen[analysis] > 3:  # e.g. 61 impedance fits: the page shows the newest few, the plots show all
            continue
        digests.append(digest(data, uuid=node.uuid, created=f'{node.ctime:%Y-%m-%d %H:%M}'))
    return digests


def overview(sample_id: str) -> Overview:
    """The record, derived values, layers, history and latest results of a sample."""

    node = load_sample(sample_id)
    attributes = dict(node.base.attributes.all)
    derived_keys = set(attributes.get('derived_keys', []))
    skip = {'sample_id', 'layers', 'derived_keys', 'nominal_composition', 'composition_flat', 'fabrication'}
    record = {k: v for k, v in sorted(attributes.items()) if k not in skip and k not in derived_keys and _scalar(v)}
    derived = {k: attributes[k] for k in sorted(derived_keys) if k in attributes}
    index = {
        k: v
        for k, v in sorted((node.base.extras.get(INDEX_EXTRA, {}) or {}).items())
        if k not in ('sources', 'summary_uuid', 'indexed_unix_s') and v is not None and _scalar(v)
    }
    return Overview(
        sample_id=sample_id,
        kind='cell' if node.__class__.__name__ == 'CellData' else 'material',
        pk=pk_of(node),
        uuid=node.uuid,
        record=record,
        derived=derived,
        layers=list(attributes.get('layers', [])),
        fabrication=list(attributes.get('fabrication', []) or []),
        composition=list(attributes.get('nominal_composition', []) or []),
        index=index,
        history=render_history(history(node)),
        results=latest_digests(sample_id),
        campaigns=_campaigns(node),
    )


def raw_files(sample_id: str) -> list[dict[str, Any]]:
    """The raw instrument files of a sample: ``[{'uuid', 'filename', 'technique', 'conditions', 'size'}]``."""
    return [
        {
            'uuid': row.raw_uuid,
            'filename': row.filename,
            'technique': ', '.join(sorted({technique or '?' for _, _, technique in row.records})),
            'records': len(row.records),
            'conditions': row.conditions,
            'sha256': row.sha256,
        }
        for row in record_rows(load_sample(sample_id))
        if row.raw_uuid is not None
    ]


# ------------------------------------------------------------------------------------------------ re-analyses
def analysis_runs(sample_id: str, limit: int | None = 20) -> list[dict[str, Any]]:
    """The cell-analysis runs of a cell, newest first: pk, uuid, time, state, options, plugin version and
    the headline summary."""

    cell = load_sample(sample_id)
    runs = []
    for run in cell_analysis_runs([cell], limit):
        summary = run.outputs.summary.get_dict() if 'summary' in run.outputs else {}
        runs.append(
            {
                'pk': run.pk,
                'uuid': run.uuid,
                'created': f'{run.ctime:%Y-%m-%d %H:%M:%S}',
                'state': 'finished'
                if run.is_finished_ok
                else (run.exit_message or str(getattr(run.process_state, 'value', 'not started'))),
                'options': run.inputs.options.get_dict() if 'options' in run.inputs else {},
                'version': (run.base.attributes.get('version', {}) or {}).get('plugin'),
                'summary': {k: v for k, v in summary.items() if k not in ('sources', 'sample_id', 'n_summaries')},
            }
        )
    return runs


def _flat(options: Mapping[str, Any], prefix: str = '') -> dict[str, Any]:
    flat = {}
    for key, value in options.items():
        if isinstance(value, Mapping):
            flat.update(_flat(value, f'{prefix}{key}.'))
        else:
            flat[f'{prefix}{key}'] = value
    return flat


def compare_runs(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Two runs of :func:`analysis_runs` side by side: ``numbers`` (before, after, change) and ``options`` and
    ``version`` where they differ."""
    numbers = []
    for key in sorted(set(old['summary']) | set(new['summary'])):
        a, b = old['summary'].get(key), new['summary'].get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            change = 'same' if a == b else f'{b - a:+.4g}'
        else:
            change = 'same' if a == b else 'changed'
        numbers.append({'number': key, 'before': a, 'after': b, 'change': change})
    old_options, new_options = _flat(old['options']), _flat(new['options'])
    options = [
        {'option': key, 'before': old_options.get(key, '(default)'), 'after': new_options.get(key, '(default)')}
        for key in sorted(set(old_options) | set(new_options))
        if old_options.get(key) != new_options.get(key)
    ]
    version = [] if old['version'] == new['version'] else [{'before': old['version'], 'after': new['version']}]
    return {'numbers': numbers, 'options': options, 'version': version}


# ------------------------------------------------------------------------------------------------ comparing cells
def _facts(sample_id: str) -> dict[str, Any]:
    """A cell's comparable facts: record fields, layer materials, every upstream lab-step parameter
    (``ROLE.KIND.PARAMETER``, the nearest step), the options of its latest analysis and its headline numbers."""

    node = load_sample(sample_id)
    attributes = node.base.attributes.all
    facts: dict[str, Any] = {}
    for key, value in sorted(attributes.items()):
        if key not in ('sample_id', 'derived_keys') and _scalar(value):
            facts[f'record.{key}'] = value
    lineage = tables._Lineage()
    for layer in attributes.get('layers', []):
        role = layer.get('role')
        facts[f'layer.{role}.material'] = layer.get('material')
        for key in ('mass_mg', 'thickness_um', 'area_cm2'):
            if key in layer:
                facts[f'layer.{role}.{key}'] = layer[key]
        material = find_sample(layer.get('material', ''))
        if material is None:
            continue
        for kind, steps in lineage.of(material).items():
            for key, value in steps[0].items():
                if _scalar(value):
                    facts.setdefault(f'{role}.{kind}.{key}', value)
    runs = analysis_runs(sample_id, limit=1) if node.__class__.__name__ == 'CellData' else []
    if runs:
        for key, value in _flat(runs[0]['options']).items():
            facts[f'analysis option.{key}'] = value
    for key, value in (node.base.extras.get(INDEX_EXTRA, {}) or {}).items():
        if key not in ('sources', 'summary_uuid', 'indexed_unix_s') and _scalar(value):
            facts[f'result.{key}'] = value
    return facts


def history_differences(sample_ids: Sequence[str], *, only_different: bool = True) -> list[dict[str, Any]]:
    """One row per fact (record field, layer, upstream step parameter, analysis option, headline number) with
    each cell's value; with ``only_different``, the facts on which the cells differ."""
    facts = {sample_id: _facts(sample_id) for sample_id in sample_ids}
    keys: list[str] = sorted(set().union(*(f.keys() for f in facts.values()))) if facts else []
    rows = []
    for key in keys:
        values = [facts[s].get(key) for s in sample_ids]
        if only_different and len({repr(v) for v in values}) <= 1:
            continue
        row: dict[str, Any] = {'fact': key}
        row.update(dict(zip(sample_ids, values)))
        rows.append(row)
    return rows


def sample_ids_like(text: str, *, cells_only: bool = False, limit: int = 30) -> list[str]:
    """Sample ids containing ``text`` (case-insensitive; ``%`` and ``_`` are wildcards), for a search box; at
    most ``limit``, each once (the current version of an amended record)."""

    classes: Iterable[type] = (CellData,) if cells_only else (CellData, MaterialData)
    filters: dict[str, Any] = dict(CURRENT_VERSIONS)
    if text:
        filters['attributes.sample_id'] = {'ilike': f'%{text}%'}
    query = orm.QueryBuilder().append(
        tuple(classes),
        filters=filters,
        project='attributes.sample_id',
        tag='node',
    )
    query.order_by({'node': [{'attributes.sample_id': {'order': 'asc', 'cast': 't'}}]}).limit(limit)
    return query.all(flat=True)
