"""A cell in the graph: its measurements (in time order, with stable unique labels) and its electrolyte material."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiida import orm

from aiida_ssb.data.campaign import campaign_label
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.measurements import ALL_MEASUREMENT_CLASSES, MeasurementData
from aiida_ssb.data.sample import find_sample
from aiida_ssb.labels import link_label

__all__ = [
    'amendments_of',
    'cell_analysis_runs',
    'electrolyte_of',
    'materials_with_records',
    'measurement_label',
    'measurements_of_cell',
    'versions_of',
]


def versions_of(sample: orm.Data) -> list[orm.Data]:
    """``sample`` and the versions it supersedes (``aiida-ssb amend``), newest first: each amendment takes the
    version before it as its ``previous`` input (one query per version)."""
    versions = [sample]
    seen = {sample.pk}
    node = sample
    while True:
        query = orm.QueryBuilder()
        query.append(orm.Data, filters={'id': node.pk}, tag='version')
        query.append(
            orm.CalcFunctionNode,
            with_outgoing='version',
            edge_filters={'type': 'create'},
            filters={'process_type': {'like': '%ssb.record.amendment'}},
            tag='amendment',
        )
        query.append(orm.Data, with_outgoing='amendment', edge_filters={'label': 'previous'}, project='*')
        previous = query.first(flat=True)
        if previous is None or previous.pk in seen:
            return versions
        node = previous
        seen.add(node.pk)
        versions.append(node)


def cell_analysis_runs(samples: Iterable[orm.Data], limit: int | None = None) -> list[orm.WorkChainNode]:
    """The cell-analysis runs (``CellAnalysisWorkChain``) of ``samples``, newest first (at most ``limit``)."""
    query = orm.QueryBuilder()
    query.append(orm.Node, filters={'id': {'in': [sample.pk for sample in samples]}}, tag='cell')
    query.append(
        orm.WorkChainNode,
        with_incoming='cell',
        filters={'process_type': {'like': '%ssb.cell_analysis'}},
        project='*',
        tag='run',
    )
    query.order_by({'run': {'ctime': 'desc'}})
    if limit:
        query.limit(limit)
    return query.all(flat=True)


def measurements_of_cell(cell: orm.Data, classes: Iterable[type] | None = None) -> list[MeasurementData]:
    """The measurement nodes parsed for ``cell`` or for a version it supersedes (optionally of some classes
    only), in time order."""
    query = orm.QueryBuilder()
    query.append(orm.Data, filters={'id': {'in': [node.pk for node in versions_of(cell)]}}, tag='sample')
    query.append(orm.CalcFunctionNode, with_incoming='sample', edge_filters={'label': 'sample'}, tag='parse')
    # entry-point type strings do not encode inheritance: query the concrete classes
    query.append(ALL_MEASUREMENT_CLASSES, with_incoming='parse', project='*', tag='measurement')
    query.order_by({'measurement': {'ctime': 'asc'}})
    found = query.all(flat=True)
    if classes is not None:
        classes = tuple(classes)
        found = [node for node in found if isinstance(node, classes)]
    return found


def materials_with_records(campaigns: Iterable[str] | None = None) -> list[orm.Data]:
    """The materials (powders, composites) that have measurement records of their own (DSC/TGA, diffraction...),
    optionally only those in the given campaign groups, by pk. Their analysis runs as a cell's does: the
    ``sample`` link of the parse process finds their records (:func:`measurements_of_cell`)."""

    query = orm.QueryBuilder()
    if campaigns is not None:
        labels = [campaign_label(name) for name in campaigns]
        query.append(orm.Group, filters={'label': {'in': labels}, 'type_string': 'core'}, tag='group')
        query.append(MaterialData, with_group='group', project='*', tag='material')
    else:
        query.append(MaterialData, project='*', tag='material')
    query.append(
        orm.CalcFunctionNode,
        with_incoming='material',
        edge_filters={'label': 'sample'},
        filters={'process_type': {'like': '%parse_%'}},
    )
    found = {node.pk: node for node in query.all(flat=True)}
    return [found[pk] for pk in sorted(found)]


def measurement_label(node: MeasurementData) -> str:
    """The label of a measurement among a cell's analysis inputs and outputs: its source file and part, then the
    first eight hex digits of its uuid (``PEIS_C01_mpt_3f2a9c1e``), so that records of one cell whose file names
    coincide (``25C/PEIS_C01.mpt`` and ``40C/PEIS_C01.mpt``) or differ only in punctuation stay apart. The label
    is stable: the same node always gets the same label, also in another profile after an archive import."""
    attributes = node.stored_attributes() if isinstance(node, MeasurementData) else node.base.attributes.all
    name = attributes.get('source_filename') or 'record'
    part = attributes.get('part_index')
    stem = link_label(name if part is None else f'{name}_{part}')
    return f'{stem}_{node.uuid.replace("-", "")[:8]}'


def electrolyte_of(cell: orm.Data) -> orm.Data | None:
    """The material of the cell's electrolyte (or separator) layer."""

    for role in ('electrolyte', 'separator'):
        for layer in cell.base.attributes.get('layers', []):
            if layer['role'] == role:
                return find_sample(layer['material'])
    return None


def amendments_of(cell: orm.Data) -> list[dict[str, Any]]:
    """The amendments that made this version of a record, newest first: ``{'pk', 'ctime', 'changes', 'reason',
    'previous_pk'}`` each."""
    found = []
    for version in versions_of(cell):
        creator = version.creator
        if creator is not None and 'amendment' in creator.inputs and 'previous' in creator.inputs:
            amendment = creator.inputs.amendment.get_dict()
            found.append(
                {
                    'pk': creator.pk,
                    'ctime': creator.ctime,
                    'changes': amendment.get('changes', []),
                    'reason': amendment.get('reason', ''),
                    'previous_pk': creator.inputs.previous.pk,
                }
            )
    return found
