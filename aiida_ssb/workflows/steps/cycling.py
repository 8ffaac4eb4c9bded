"""Steps of the galvanostatic analyses: cycling summary and critical current density."""

from __future__ import annotations

from aiida import orm

from aiida_ssb.calculations.cycling import analyse_ccd, analyse_cycling
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.measurements import SymmetricCellData
from aiida_ssb.workflows.run import AnalysisRun

__all__ = ['ccd', 'cycling', 'half_cell_summary']

#: electrode of a full cell -> the kind of half cell that measures it
_HALF_CELL_KINDS = {'positive': 'cathode_half_cell', 'negative': 'anode_half_cell'}


def _galvanostatic(run: AnalysisRun, symmetric: bool) -> list[tuple[str, orm.Data]]:
    return [
        (label, node)
        for label, node in run.labelled('cycling')
        if node.technique not in ('ocv', 'wait', 'ca') and isinstance(node, SymmetricCellData) == symmetric
    ]


def half_cell_summary(material: str | None, electrode: str) -> orm.Dict | None:
    """The latest cycling summary of a half cell whose electrode under test is ``material`` (the same electrode
    batch as a full cell's layer) and that measures the ``electrode`` (positive: a cathode half cell, negative:
    an anode half cell); None when there is none."""
    if not material:
        return None
    cells = orm.QueryBuilder().append(
        CellData,
        filters={'attributes.tested_material': material, 'attributes.cell_kind': _HALF_CELL_KINDS[electrode]},
        project='attributes.sample_id',
    )
    sample_ids = sorted(set(cells.all(flat=True)))
    if not sample_ids:
        return None
    query = orm.QueryBuilder().append(
        orm.Dict,
        filters={'attributes.analysis': 'cycling', 'attributes.sample_id': {'in': sample_ids}},
        tag='summary',
        project='*',
    )
    query.order_by({'summary': {'ctime': 'desc'}}).limit(1)
    found = query.all(flat=True)
    return found[0] if found else None


def cycling(run: AnalysisRun) -> None:
    """The cycling summary of every galvanostatic record of a non-symmetric cell; a full cell's gets the latest
    summaries of half cells of its electrode materials, for the measured N/P ratio."""
    records = _galvanostatic(run, symmetric=False)
    if not records:
        run.skip('cycling', 'no galvanostatic record of a cell that is not symmetric', applies=False)
        return
    options = run.settings_node('cycling')
    extra = {}
    attributes = run.cell.base.attributes
    if attributes.get('cell_kind', None) in ('full_cell', 'three_electrode_cell'):
        for electrode in ('positive', 'negative'):
            summary = half_cell_summary(attributes.get(f'{electrode}_material', None), electrode)
            if summary is not None:
                extra[f'{electrode}_half_cell'] = summary
    for label, measurement in records:
        run.call('cycling', analyse_cycling, label, measurement=measurement, cell=run.cell, options=options, **extra)


def ccd(run: AnalysisRun) -> None:
    """The critical current density of every record of a symmetric cell."""
    records = _galvanostatic(run, symmetric=True)
    if not records:
        run.skip('ccd', 'no galvanostatic record of a symmetric cell', applies=False)
        return
    options = run.settings_node('ccd')
    for label, measurement in records:
        run.call('ccd', analyse_ccd, label, measurement=measurement, cell=run.cell, options=options)
