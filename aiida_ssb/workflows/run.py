"""One cell's analysis run: the state the analysis steps share, and the way they call the process functions.

A :class:`AnalysisRun` holds the cell, its measurements (by kind), the options of every analysis section and
the results produced so far. Each step of :mod:`aiida_ssb.workflows.steps` reads what it needs from it and
calls the ``analyse_*`` process functions through :meth:`AnalysisRun.call`, which records the outputs or the
failure. :class:`~aiida_ssb.workflows.cell.CellAnalysisWorkChain` is one process whose children are those
process functions: no intermediate workchain, so no process ever waits for another.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiida import orm
from aiida.engine import run_get_node

from aiida_ssb.analysis.registry import ANALYSES, canonical_options, merge_options, validate_options
from aiida_ssb.data.measurements import MeasurementData
from aiida_ssb.query.records import measurement_label, measurements_of_cell

__all__ = ['AnalysisRun', 'Outcome', 'canonical_options', 'merge_options', 'shared_dict', 'validate_options']


def shared_dict(values: Mapping[str, Any]) -> orm.Dict:
    """A stored ``Dict`` with these values: an existing one with the same content when there is one (so identical
    options across runs are one node, and caching sees one input), else a new one."""
    node = orm.Dict(dict(values))
    digest = node.base.caching._compute_hash()  # the hash it will have once stored (public only after storing)
    if digest:
        query = orm.QueryBuilder().append(orm.Dict, filters={'extras._aiida_hash': digest}, project='*')
        for (existing,) in query.limit(5).iterall():
            if existing.get_dict() == node.get_dict():
                return existing
    return node.store()


def _record_name(inputs: Mapping[str, Any], label: str) -> str:
    """The file (and part) of the record an analysis ran on, as a user knows it; the run label otherwise."""
    record = inputs.get('measurement', inputs.get('spectrum'))
    if not isinstance(record, MeasurementData):
        return label
    name = record.base.attributes.get('source_filename', None) or label
    part = record.base.attributes.get('part_index', None)
    return name if part is None else f'{name} #{part}'


@dataclasses.dataclass
class Outcome:
    """What one process-function call gave: its outputs (empty when it failed) and its process node."""

    label: str
    outputs: dict[str, orm.Data]
    process: orm.ProcessNode
    #: whether the process finished with exit status 0 (read once: a stored node's attributes are a query each)
    ok: bool

    @property
    def summary(self) -> orm.Dict:
        """The ``summary`` output (every analysis that finished ok has one)."""
        summary = self.outputs.get('summary')
        if not isinstance(summary, orm.Dict):
            raise KeyError(f'{self.label}: no summary output')
        return summary


class AnalysisRun:
    """The shared state of one cell's analyses (see the module docstring)."""

    def __init__(
        self,
        cell: orm.Data,
        options: Mapping[str, Any] | None = None,
        *,
        report: Callable[[str], None] | None = None,
        measurements: Iterable[MeasurementData] | None = None,
    ):
        self.cell = cell
        self.options = canonical_options(options)
        self._report = report or (lambda message: None)
        nodes = list(measurements) if measurements is not None else measurements_of_cell(cell)
        self.measurements: dict[str, list[MeasurementData]] = {}
        for node in nodes:
            self.measurements.setdefault(node.kind, []).append(node)
        #: analysis name -> measurement label (or run label) -> outcome
        self.results: dict[str, dict[str, Outcome]] = {}
        #: messages of the calls that failed
        self.failures: list[str] = []
        #: analysis name -> why it was not run on this cell (the run's extra ``ssb_not_run``; ``plot`` says it)
        self.skipped: dict[str, str] = {}
        #: the skipped analyses that cannot apply to this cell (its kind, its protocols, where its spectra go)
        self.inapplicable: set[str] = set()
        self._settings_nodes: dict[tuple[str, str], orm.Dict] = {}
        self._labels: dict[int | None, str] = {}
        self._sample_id: str | None = None

    @property
    def sample_id(self) -> str:
        if self._sample_id is None:  # read once: a stored node's attributes are a query at every access
            self._sample_id = self.cell.base.attributes.get('sample_id', '')
        return self._sample_id

    def report(self, message: str) -> None:
        self._report(message)

    def labelled(self, kind: str) -> list[tuple[str, MeasurementData]]:
        """``(label, node)`` of the cell's measurements of one kind, in time order, labels unique (each label read
        once per run)."""
        found = []
        for node in self.measurements.get(kind, []):
            if node.pk not in self._labels:
                self._labels[node.pk] = measurement_label(node)
            found.append((self._labels[node.pk], node))
        return found

    def section(self, name: str) -> dict[str, Any]:
        """The options given for an analysis (user layers only, not the defaults)."""
        return dict(self.options.get(name, {}))

    def settings(self, name: str, defaults: Mapping[str, Any] | None = None) -> Any:
        """The resolved settings of an analysis: ``defaults`` (chosen for this cell by the step) under the
        options given for it."""
        return ANALYSES[name].settings.resolve({**dict(defaults or {}), **self.section(name)})

    def settings_node(self, name: str, defaults: Mapping[str, Any] | None = None) -> orm.Dict:
        """The resolved settings as a shared ``Dict`` (every field explicit, so a stored result says exactly how
        it was made and a change of a default gives a new result)."""
        settings = self.settings(name, defaults)
        parameters = settings.parameters()
        key = (name, repr(sorted(parameters.items())))
        if key not in self._settings_nodes:
            self._settings_nodes[key] = shared_dict(parameters)
        return self._settings_nodes[key]

    def call(self, name: str, function: Any, label: str, **inputs: Any) -> Outcome:
        """Run ``function`` (an ``analyse_*`` process function) and record the outcome under ``name``/``label``."""
        outputs, node = run_get_node(function, metadata={'label': f'{name} {self.sample_id} {label}'}, **inputs)
        ok = node.is_finished_ok
        outcome = Outcome(label, dict(outputs) if ok else {}, node, ok)
        self.results.setdefault(name, {})[label] = outcome
        if not ok:
            message = f'{name} {_record_name(inputs, label)}: {node.exit_message or node.process_state}'
            self.failures.append(message)
            self.report(message)
        return outcome

    def skip(self, name: str, why: str, *, applies: bool = True) -> None:
        """Record that analysis ``name`` is not run on this cell, and why; ``applies=False`` when it cannot apply
        to this cell (a CCD of a half cell, a conductivity of spectra that go to interface growth), so the run's
        report leaves it out."""
        self.skipped[name] = why
        if not applies:
            self.inapplicable.add(name)

    def skips_to_report(self) -> dict[str, str]:
        """The skipped analyses a user may have expected (why each is missing): those that can apply to the
        cell and read a kind of record it has (or other analyses' results), or that ran on some of its records."""
        present = {*self.measurements, 'results'}
        return {
            name: why
            for name, why in self.skipped.items()
            if name not in self.inapplicable and (present & set(ANALYSES[name].measurements) or name in self.results)
        }

    def successful(self, name: str) -> dict[str, Outcome]:
        """The outcomes of an analysis that finished ok, by label."""
        return {label: outcome for label, outcome in self.results.get(name, {}).items() if outcome.ok}

    def summaries(self) -> dict[str, orm.Dict]:
        """Every successful result summary, labelled ``<analysis>__<label>``."""
        found: dict[str, orm.Dict] = {}
        for name, outcomes in self.results.items():
            for label, outcome in outcomes.items():
                summary = outcome.outputs.get('summary') if outcome.ok else None
                if isinstance(summary, orm.Dict):
                    found[f'{name}__{label}'] = summary
        return found

    def failed_analyses(self) -> set[str]:
        """The analyses with at least one failed call in this run."""
        return {name for name, outcomes in self.results.items() if any(not o.ok for o in outcomes.values())}
