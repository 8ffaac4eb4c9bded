"""``CellAnalysisWorkChain``: every applicable analysis of one cell in one process, and its headline summary.

The workchain's children are the analysis process functions themselves (one per measurement, or per series),
run by the steps of :mod:`aiida_ssb.workflows.steps` in registry order: no per-technique workchain in
between, so nothing waits on the runner's poll interval and a cell costs one workchain plus its calculations.

Options come in three layers, later ones winning key by key: the cell's recorded ``analysis:`` choices (from
its manifest), the options remembered on the cell from its last fully successful run (the extra
``ssb_options``), and the options given now (``--set``). :meth:`CellAnalysisWorkChain.get_builder_for` merges
them into the run's ``options`` input, so every run records the options it used; the resolved settings of each
analysis (every field explicit) are the ``options`` input of its process functions, so each result says
exactly how it was made.

A failed analysis never changes what the index reports for it: the cell summary then takes that analysis's
numbers from the previous summary (linked as inputs, so the provenance says so), as it does for the analyses
skipped in a run where one failed (an Arrhenius fit has nothing to fit when every conductivity failed), and
the options of a run are remembered on the cell for every analysis that succeeded on at least one record in it
(an option that made its analysis fail on every record is not kept; what was remembered for it stays). Each run records where its options
came from (manifest, stored on the cell, ``--set``) in its extra ``ssb_option_sources``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiida import orm
from aiida.engine import WorkChain, run_get_node
from aiida.engine import submit as submit_process
from aiida.manage.caching import enable_caching

from aiida_ssb.analysis.registry import ANALYSES, canonical_options, validate_options
from aiida_ssb.calculations.summary import headline_inputs, summarise_cell
from aiida_ssb.data.campaign import campaign_groups
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.index import index_cell, index_materials, latest_cell_summary
from aiida_ssb.data.material import MaterialData
from aiida_ssb.exceptions import SsbError
from aiida_ssb.query.records import cell_analysis_runs
from aiida_ssb.workflows import steps
from aiida_ssb.workflows.options import (  # re-exported: their home was this module
    OPTIONS_EXTRA,
    SOURCES_EXTRA,
    cell_options,
    option_sources,
    remember_options,
)
from aiida_ssb.workflows.run import AnalysisRun
from aiida_ssb.workflows.stale import record_runner

__all__ = [
    'NOT_RUN_EXTRA',
    'OPTIONS_EXTRA',
    'SOURCES_EXTRA',
    'CellAnalysisWorkChain',
    'cell_options',
    'explain_missing',
    'option_sources',
    'plan_cell_analyses',
    'remember_options',
    'run_cell_analyses',
]


def _step(name: str) -> Callable[[AnalysisRun], None]:
    return getattr(steps, name)


def plan_cell_analyses(cell: CellData, options: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Which analyses a cell gets, without running any: ``{analysis: measurement kinds it reads}`` for the
    analyses whose measurements the cell has (impedance is routed to conductivity or interface growth)."""
    run = AnalysisRun(cell, options)
    route = steps.impedance_route(run)
    planned = {}
    for spec in ANALYSES.values():
        kinds = [kind for kind in spec.measurements if run.measurements.get(kind)]
        if spec.name in ('conductivity', 'arrhenius', 'interface_growth', 'cell_impedance'):
            wanted = spec.name if spec.name in ('interface_growth', 'cell_impedance') else 'conductivity'
            if route != wanted:
                continue
            kinds = ['eis']
        if kinds:
            planned[spec.name] = ', '.join(kinds)
    return planned


def _validate_options_port(value: orm.Dict | None, _port: Any) -> str | None:
    if value is None:
        return None
    try:
        validate_options(value.get_dict())
    except SsbError as exc:
        return str(exc)
    return None


class CellAnalysisWorkChain(WorkChain):
    """Every applicable analysis of every measurement of one cell, then one summary of the cell's headline
    numbers, also copied to the query index. ``options``: per-analysis overrides (sections named as the
    analyses: ``eis_fit``, ``conductivity``, ``arrhenius``, ``interface_growth``, ``onsets``, ``stepwise_cv``,
    ``cycling``, ``ccd``; former names such as ``eis`` and ``growth`` are accepted)."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input(
            'cell',
            valid_type=(CellData, MaterialData),
            help='The cell to analyse, or a material with its own records (thermal analysis, diffraction).',
        )
        spec.input(
            'options',
            valid_type=orm.Dict,
            required=False,
            validator=_validate_options_port,
            help='Per-analysis option overrides, by section.',
        )
        spec.output('summary', valid_type=orm.Dict, required=False, help="The cell's headline numbers and sources.")
        spec.outline(cls.analyse, cls.summarise)
        spec.exit_code(410, 'ERROR_SOME_ANALYSES_FAILED', message='some analyses failed: {failures}')
        spec.exit_code(411, 'ERROR_NOTHING_TO_ANALYSE', message='the cell has no measurement to analyse')

    @classmethod
    def get_builder_for(cls, cell: CellData, options: Mapping[str, Any] | None = None):
        """A builder for ``cell`` whose ``options`` are the cell's options (:func:`cell_options`) under ``options``."""
        builder = cls.get_builder()
        builder.cell = cell
        merged = cell_options(cell, options)
        if merged:
            builder.options = orm.Dict(merged)
        builder.metadata.label = f'CellAnalysis {cell.sample_id}'  # type: ignore[attr-defined]  # a port namespace, set by AiiDA at run time
        return builder

    def _options(self) -> dict[str, dict[str, Any]]:
        return canonical_options(self.inputs.options.get_dict() if 'options' in self.inputs else {})

    def analyse(self):
        record_runner(self.node, in_process=self.runner.communicator is None)  # for `aiida-ssb tidy` after a kill
        cell = self.inputs.cell
        run = AnalysisRun(cell, self._options(), report=self.report)
        for spec in ANALYSES.values():
            _step(spec.name)(run)
        summaries = {
            f'{name}__{label}': outcome.outputs['summary']
            for name, outcomes in run.results.items()
            for label, outcome in outcomes.items()
            if outcome.ok and 'summary' in outcome.outputs
        }
        if run.results:  # what ran, for `verdi process report` and the daemon's log
            self.report(
                'ran: '
                + '; '.join(
                    f'{name} ({sum(o.ok for o in outcomes.values())} of {len(outcomes)} finished ok)'
                    for name, outcomes in run.results.items()
                )
            )
        relevant = run.skips_to_report()
        if relevant:  # skips of analyses that apply and whose kind of record the sample has: the reason matters
            self.report('not run: ' + '; '.join(f'{name} ({why})' for name, why in relevant.items()))
        self.node.base.extras.set(NOT_RUN_EXTRA, dict(run.skipped))  # why an analysis has no result (plot says)
        self.ctx.summaries = summaries
        self.ctx.failures = run.failures
        self.ctx.failed = sorted(run.failed_analyses())
        self.ctx.failed_everywhere = sorted(  # every call of the analysis failed: its options are not remembered
            name for name, outcomes in run.results.items() if outcomes and not any(o.ok for o in outcomes.values())
        )
        self.ctx.skipped = sorted(run.skipped)
        self.ctx.ran = sorted(run.results)

    def summarise(self):
        if not self.ctx.ran:
            return self.exit_codes.ERROR_NOTHING_TO_ANALYSE
        cell = self.inputs.cell
        inputs = dict(self.ctx.summaries)
        failed = set(self.ctx.failed)
        if failed:  # an analysis skipped for want of a failed one's results (Arrhenius after conductivity) keeps too
            failed |= set(self.ctx.get('skipped', []))
        inputs.update(_kept_from_previous(cell, failed))
        contents = {label: dict(node.get_dict(), uuid=node.uuid) for label, node in inputs.items()}
        inputs = {label: inputs[label] for label in headline_inputs(contents)}  # what the summary reads
        result, _ = summarise_cell.run_get_node(cell=cell, metadata={'label': f'summarise {cell.sample_id}'}, **inputs)
        summary = result['summary']
        self.out('summary', summary)
        if isinstance(cell, CellData):
            index_cell(cell, summary)  # a material's numbers reach its index through index_materials
        index_materials(self.ctx.summaries.values())
        for group in campaign_groups(cell):  # an archive of a campaign carries its analyses
            group.add_nodes(self.node)
        remember_options(cell, self._options(), set(self.ctx.get('failed_everywhere', self.ctx.failed)))
        if self.ctx.failures:
            return self.exit_codes.ERROR_SOME_ANALYSES_FAILED.format(failures='; '.join(self.ctx.failures))
        return None


#: the extra of an analysis run saying why each analysis it did not run was skipped
NOT_RUN_EXTRA = 'ssb_not_run'


def _route_reason(run: AnalysisRun) -> str:
    """Why a cell's spectra go where :func:`~aiida_ssb.workflows.steps.impedance_route` sends them."""
    route = steps.impedance_route(run)
    spectra = run.measurements.get('eis', [])
    temperatures = {s.base.attributes.get('temperature_c', None) for s in spectra} - {None}
    if route == 'conductivity':
        why = (
            'it is a blocking pellet'
            if run.cell.base.attributes.get('format') == 'blocking_pellet'
            else f'they span {len(temperatures)} temperatures'
        )
        return f'its {len(spectra)} spectra are a conductivity measurement ({why}): conductivity and Arrhenius'
    if route == 'interface_growth':
        return f'its {len(spectra)} spectra are a series over a state label: interface growth'
    return (
        f'its {len(spectra)} spectra carry no state label (time since assembly, cycle index, upper cut-off) shared '
        'by two or more of them: cell impedance (resistances by role)'
    )


def explain_missing(cell: orm.Data, analysis: str) -> str:
    """Why ``cell`` has no result of ``analysis``: not analysed yet, the analysis does not apply (and why), or it
    failed (with its message)."""
    sample_id = cell.base.attributes.get('sample_id', None)
    latest = next(iter(cell_analysis_runs([cell], limit=1)), None)
    if latest is None:
        return f'{sample_id} has no {analysis} result: it was not analysed yet (aiida-ssb analyse {sample_id})'
    failed = [
        child
        for child in latest.called
        if (child.label or '').startswith(f'{analysis} ') and child.is_terminated and not child.is_finished_ok
    ]
    if failed:
        message = failed[0].exit_message or getattr(failed[0].process_state, 'value', 'not started')
        return f'{analysis} failed on {sample_id} in CellAnalysisWorkChain<{latest.pk}>: {message}'
    reason = (latest.base.extras.get(NOT_RUN_EXTRA, None) or {}).get(analysis)
    run = AnalysisRun(cell)
    if analysis in ('conductivity', 'arrhenius', 'interface_growth', 'cell_impedance') and run.measurements.get('eis'):
        reason = f'{reason}; {_route_reason(run)}' if reason else _route_reason(run)
    if reason:
        return f'{analysis} does not apply to {sample_id}: {reason}'
    if not latest.is_terminated:
        return f'{sample_id} is being analysed (CellAnalysisWorkChain<{latest.pk}>): no {analysis} result yet'
    return f'{sample_id} has no {analysis} result (CellAnalysisWorkChain<{latest.pk}> made none)'


def _kept_from_previous(cell: orm.Data, failed: set[str]) -> dict[str, orm.Dict]:
    """The previous summary's sources of the analyses that failed now, labelled ``kept__<analysis>__<n>``."""
    if not failed:
        return {}
    previous = latest_cell_summary(cell)
    if previous is None:
        return {}
    kept: dict[str, orm.Dict] = {}
    for uuid in sorted(set((previous.get('sources') or {}).values())):
        try:
            node = orm.load_node(uuid)
        except Exception:
            continue
        if not isinstance(node, orm.Dict):
            continue
        name = node.base.attributes.get('analysis', None)
        if name in failed:
            kept[f'kept__{name}__{len(kept)}'] = node
    return kept


def run_cell_analyses(
    cells: Iterable[CellData],
    options: Mapping[str, Any] | None = None,
    *,
    submit: bool = False,
    use_cache: bool = True,
    progress: Callable[[Iterable[CellData]], Iterable[CellData]] | None = None,
) -> list[orm.ProcessNode]:
    """Run (in this process) or submit (to the daemon) a :class:`CellAnalysisWorkChain` per cell; returns the
    process nodes. In process, the analyses come from the cache when their inputs are unchanged
    (``use_cache``). ``progress`` wraps the iteration over the cells (e.g. a progress bar)."""

    cells = list(cells)
    validate_options(options)
    if submit:
        nodes = []
        for cell in cells:
            sources = option_sources(cell, options)
            node = submit_process(CellAnalysisWorkChain.get_builder_for(cell, options))
            node.base.extras.set(SOURCES_EXTRA, sources)
            nodes.append(node)
        return nodes
    nodes = []
    for cell in progress(cells) if progress else cells:
        sources = option_sources(cell, options)  # before the run: it may change what the cell remembers
        builder = CellAnalysisWorkChain.get_builder_for(cell, options)
        if use_cache:
            with enable_caching(identifier='aiida.calculations:ssb.analyse.*'):
                _, node = run_get_node(builder)
        else:
            _, node = run_get_node(builder)
        node.base.extras.set(SOURCES_EXTRA, sources)
        nodes.append(node)
    return nodes
