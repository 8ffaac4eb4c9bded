"""What the analysis workchains share: a cell, its measurements as an input namespace, options, and the
gathering of the measurements of a cell from the graph."""

from __future__ import annotations

from collections.abc import Iterable

from aiida import orm
from aiida.engine import WorkChain

from aiida_ssb.calculations.record import link_label
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.measurements import ALL_MEASUREMENT_CLASSES, MeasurementData

__all__ = ['CellAnalysisBase', 'builder_for', 'electrolyte_of', 'measurement_label', 'measurements_of_cell']


def measurements_of_cell(cell: orm.Data, classes: Iterable[type] | None = None) -> list[MeasurementData]:
    """The measurement nodes parsed for ``cell`` (optionally of some classes only), in time order."""
    query = orm.QueryBuilder()
    query.append(orm.Data, filters={'id': cell.pk}, tag='sample')
    query.append(orm.CalcFunctionNode, with_incoming='sample', edge_filters={'label': 'sample'}, tag='parse')
    # entry-point type strings do not encode inheritance: query the concrete classes
    query.append(ALL_MEASUREMENT_CLASSES, with_incoming='parse', project='*', tag='measurement')
    query.order_by({'measurement': {'ctime': 'asc'}})
    found = query.all(flat=True)
    if classes is not None:
        classes = tuple(classes)
        found = [node for node in found if isinstance(node, classes)]
    return found


def measurement_label(node: MeasurementData) -> str:
    """A link label for a measurement: its source file and part (``cv_mpt``, ``geis_mpt_3``)."""
    name = node.base.attributes.get('source_filename', None) or f'm{node.pk}'
    part = node.base.attributes.get('part_index', None)
    return link_label(name if part is None else f'{name}_{part}')


def electrolyte_of(cell: orm.Data) -> orm.Data | None:
    """The material of the cell's electrolyte (or separator) layer."""
    from aiida_ssb.data.sample import find_sample

    for role in ('electrolyte', 'separator'):
        for layer in cell.base.attributes.get('layers', []):
            if layer['role'] == role:
                return find_sample(layer['material'])
    return None


def builder_for(
    workchain,
    cell: CellData,
    options: dict | None,
    measurements: Iterable[MeasurementData] | None,
    classes: tuple[type, ...],
):
    """A builder of ``workchain`` for ``cell`` with the measurements given, or all of ``classes`` on the cell."""
    builder = workchain.get_builder()
    builder.cell = cell
    nodes = list(measurements) if measurements is not None else measurements_of_cell(cell, classes)
    builder.measurements = {measurement_label(node): node for node in nodes}
    if options is not None:
        builder.options = orm.Dict(options)
    builder.metadata.label = f'{workchain.__name__} {cell.sample_id}'
    return builder


class CellAnalysisBase(WorkChain):
    """Base: ``cell`` and its ``measurements`` (a namespace of measurement nodes) and ``options``; subclasses
    define ``analyse``."""

    measurement_classes: tuple[type, ...] = (MeasurementData,)

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('cell', valid_type=CellData, help='The measured cell.')
        spec.input_namespace(
            'measurements',
            valid_type=MeasurementData,
            dynamic=True,
            help='The measurements to analyse (default: all of the right kind on the cell).',
        )
        spec.input('options', valid_type=orm.Dict, required=False, help='Analysis options (defaults when absent).')
        spec.output_namespace('summaries', valid_type=orm.Dict, dynamic=True, help='One summary per measurement.')
        spec.output_namespace('curves', valid_type=orm.ArrayData, dynamic=True, help='Curves per measurement.')
        spec.exit_code(401, 'ERROR_SOME_ANALYSES_FAILED', message='some analyses failed: {failures}')
        spec.exit_code(402, 'ERROR_NO_MEASUREMENTS', message='the cell has no measurement of this kind')
        spec.outline(cls.setup, cls.analyse, cls.finish)

    @classmethod
    def get_builder_for(
        cls, cell: CellData, options: dict | None = None, measurements: Iterable[MeasurementData] | None = None
    ):
        """A builder with every measurement of the right kind of ``cell`` (or the ones given)."""
        return builder_for(cls, cell, options, measurements, cls.measurement_classes)

    def setup(self):
        self.ctx.failures = []

    def options_dict(self) -> dict:
        return self.inputs.options.get_dict() if 'options' in self.inputs else {}

    def collect(self, label: str, function, **inputs) -> bool:
        """Run one analysis, expose its outputs under ``label``; remember a failure. True on success."""
        outputs, node = function.run_get_node(metadata={'label': f'{function.__name__} {label}'}, **inputs)
        if not node.is_finished_ok:
            self.ctx.failures.append(f'{label}: {node.exit_message or node.process_state}')
            self.report(f'{label}: {node.exit_message}')
            return False
        self.out(f'summaries.{label}', outputs['summary'])
        if 'curves' in outputs:
            self.out(f'curves.{label}', outputs['curves'])
        return True

    def finish(self):
        if not self.inputs.get('measurements', {}):
            return self.exit_codes.ERROR_NO_MEASUREMENTS
        if self.ctx.failures:
            return self.exit_codes.ERROR_SOME_ANALYSES_FAILED.format(failures='; '.join(self.ctx.failures))
        return None
