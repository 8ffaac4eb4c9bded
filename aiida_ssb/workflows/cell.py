"""``CellAnalysisWorkChain``: every applicable analysis of one cell, and its headline summary."""

from __future__ import annotations

from typing import Any

from aiida import orm
from aiida.engine import ToContext, WorkChain

from aiida_ssb.calculations.summary import summarise_cell
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.measurements import CyclingData, ImpedanceSpectrumData, VoltammogramData
from aiida_ssb.query.index import index_cell, index_materials
from aiida_ssb.workflows.base import measurements_of_cell
from aiida_ssb.workflows.cycling import CyclingWorkChain, OxidativeStabilityWorkChain
from aiida_ssb.workflows.impedance import ConductivityWorkChain, InterfaceWorkChain

__all__ = ['OPTION_SECTIONS', 'CellAnalysisWorkChain', 'plan_cell_analyses']

#: the sections of the options Dict, each validated by its schema
OPTION_SECTIONS = ('eis', 'conductivity', 'arrhenius', 'growth', 'onsets', 'stepwise_cv', 'cycling', 'ccd')

_STATE_LABELS = ('time_since_assembly_h', 'cycle_index', 'upper_cutoff_v')


def plan_cell_analyses(cell: CellData, options: dict[str, Any] | None = None) -> list[tuple[str, type, dict, list]]:
    """Which analyses a cell gets: ``[(name, workchain class, options, measurements)]``.

    * impedance spectra: a conductivity series (+ Arrhenius) for a blocking pellet or for spectra at three or
      more temperatures; otherwise, with two or more spectra carrying a state label (time since assembly,
      cycle index, upper cut-off), the tracking of an interface resistance;
    * voltammograms: oxidative/reductive onsets;
    * galvanostatic records: the cycling summary (and the CCD for a symmetric cell).
    """
    options = dict(options or {})
    plan = []
    spectra = measurements_of_cell(cell, (ImpedanceSpectrumData,))
    if spectra:
        temperatures = {s.base.attributes.get('temperature_c', None) for s in spectra} - {None}
        labels = [
            label
            for label in _STATE_LABELS
            if sum(s.base.attributes.get(label, None) is not None for s in spectra) >= 2
        ]
        if cell.format == 'blocking_pellet' or len(temperatures) >= 3 or not labels:
            section = {key: options[key] for key in ('eis', 'conductivity', 'arrhenius') if key in options}
            plan.append(('conductivity', ConductivityWorkChain, section, spectra))
        else:
            growth = dict(options.get('growth', {}))
            growth.setdefault('against', labels[0])
            growth.setdefault('element', 'interface' if cell.format == 'symmetric' else 'cathode_interphase')
            section = {'growth': growth}
            if 'eis' in options:
                section['eis'] = options['eis']
            plan.append(('interface', InterfaceWorkChain, section, spectra))
    voltammograms = measurements_of_cell(cell, (VoltammogramData,))
    if voltammograms:
        section = {key: options[key] for key in ('onsets', 'stepwise_cv') if key in options}
        plan.append(('stability', OxidativeStabilityWorkChain, section, voltammograms))
    cycling = measurements_of_cell(cell, (CyclingData,))
    if cycling:
        section = {key: options[key] for key in ('cycling', 'ccd') if key in options}
        plan.append(('cycling', CyclingWorkChain, section, cycling))
    return plan


class CellAnalysisWorkChain(WorkChain):
    """Every applicable analysis of every measurement of one cell, with per-technique default parameters,
    overridden by the options recorded with the cell (its manifest ``analysis:``) and then by ``options``
    (sections ``eis``, ``conductivity``, ``arrhenius``, ``growth``, ``onsets``, ``cycling``, ``ccd``); then one
    summary of the cell's headline numbers, also copied to the query index."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('cell', valid_type=CellData, help='The cell to analyse.')
        spec.input('options', valid_type=orm.Dict, required=False, help='Per-technique option overrides.')
        spec.output('summary', valid_type=orm.Dict, help="The cell's headline numbers with their sources.")
        spec.outline(cls.launch, cls.summarise)
        spec.exit_code(410, 'ERROR_SOME_ANALYSES_FAILED', message='some analyses failed: {failures}')
        spec.exit_code(411, 'ERROR_NOTHING_TO_ANALYSE', message='the cell has no measurement to analyse')

    @classmethod
    def get_builder_for(cls, cell: CellData, options: dict | None = None):
        builder = cls.get_builder()
        builder.cell = cell
        if options:
            builder.options = orm.Dict(options)
        builder.metadata.label = f'CellAnalysis {cell.sample_id}'
        return builder

    def launch(self):
        options = {
            section: dict(values)
            for section, values in (self.inputs.cell.base.attributes.get('analysis', None) or {}).items()
        }
        for section, values in (self.inputs.options.get_dict() if 'options' in self.inputs else {}).items():
            options.setdefault(section, {}).update(values)  # the cell's recorded choices, then the overrides
        unknown = set(options) - set(OPTION_SECTIONS)
        if unknown:
            self.report(f'ignoring unknown option sections: {", ".join(sorted(unknown))}')
        plan = plan_cell_analyses(self.inputs.cell, options)
        self.ctx.names = []
        children = {}
        for name, workchain, section, measurements in plan:
            builder = workchain.get_builder_for(self.inputs.cell, section or None, measurements)
            children[name] = self.submit(builder)
            self.ctx.names.append(name)
            self.report(f'{name}: {workchain.__name__}<{children[name].pk}> on {len(measurements)} measurement(s)')
        return ToContext(**children)

    def _join_campaigns(self) -> None:
        """Put this analysis in the campaign groups of its cell, so that `verdi archive create -G CAMPAIGN`
        carries the analyses (the archive follows it to every called process and result)."""
        for group in _campaign_groups(self.inputs.cell):
            group.add_nodes(self.node)

    def summarise(self):
        if not self.ctx.names:
            return self.exit_codes.ERROR_NOTHING_TO_ANALYSE
        summaries: dict[str, orm.Dict] = {}
        failures = []
        for name in self.ctx.names:
            child = self.ctx[name]
            if not child.is_finished_ok:
                failures.append(f'{name}: {child.exit_message or child.process_state}')
            for label, node in _dict_outputs(child):
                summaries[f'{name}__{label}'] = node
        result, _ = summarise_cell.run_get_node(
            cell=self.inputs.cell, metadata={'label': f'summarise {self.inputs.cell.sample_id}'}, **summaries
        )
        summary = result['summary']
        self.out('summary', summary)
        index_cell(self.inputs.cell, summary)
        index_materials(summaries.values())
        self._join_campaigns()
        if failures:
            return self.exit_codes.ERROR_SOME_ANALYSES_FAILED.format(failures='; '.join(failures))
        return None


def _campaign_groups(node: orm.Node) -> list[orm.Group]:
    query = orm.QueryBuilder().append(orm.Node, filters={'id': node.pk}, tag='node')
    query.append(orm.Group, with_node='node', filters={'type_string': 'core'}, project='*')
    return query.all(flat=True)


def _dict_outputs(process: orm.ProcessNode) -> list[tuple[str, orm.Dict]]:
    """Every Dict output of a workchain (flattened namespace labels), the analysis summaries."""
    from aiida.common.links import LinkType

    result = []
    for link in process.base.links.get_outgoing(link_type=LinkType.RETURN).all():
        if isinstance(link.node, orm.Dict) and link.node.get('analysis') is not None:
            result.append((link.link_label, link.node))
    return result
