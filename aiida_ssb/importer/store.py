"""Storing a validated plan: complete entries, in batches of transactions, safe against concurrent importers.

:func:`run_import` stores a :class:`~aiida_ssb.importer.plan.Plan` in dependency order (materials, lab steps,
cells, literature values, measurements). Each entry is stored whole: a material with the step that made it, a
cell with its assembly, a measurement with its raw file and parse process. The entries go into storage
transactions of about :data:`BATCH_SECONDS` each (one transaction for a small import): everything of a batch is
stored, or nothing of it. So a long import never holds SQLite's single write lock for minutes, and other
writers wait seconds, not minutes. An interrupted import leaves complete entries only; importing the same
manifest again stores the rest (entries already stored are skipped). ``single_transaction=True``
(``aiida-ssb import --single-transaction``) stores everything in one transaction instead: all or nothing, at
the price of holding the lock throughout on SQLite.

:func:`import_manifest` plans and stores. When another importer stores some of the same samples or raw files at
the same time, one of the two transactions fails at a database constraint (the registries); the importer then
plans again, against what is now stored, and goes on: the result is one copy of everything, whoever came first.
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
from collections.abc import Callable, Iterator

from aiida import orm

from aiida_ssb.calculations import record as record_module
from aiida_ssb.data.campaign import campaign_label, get_or_create_campaign_group
from aiida_ssb.data.index import index_materials
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.rawfile import register_raw_file
from aiida_ssb.data.sample import find_samples
from aiida_ssb.data.storage import is_concurrency_conflict, reset_session, write_transaction
from aiida_ssb.importer import measurements as measurements_module
from aiida_ssb.importer.plan import Plan, plan_import

__all__ = ['BATCH_SECONDS', 'ImportReport', 'import_manifest', 'run_import']

#: a storage transaction of an import is closed after the entry that takes it past this many seconds
BATCH_SECONDS = 5.0


@dataclasses.dataclass
class ImportReport:
    plan: Plan
    created: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    dry_run: bool = False
    group_label: str | None = None
    transactions: int = 0
    #: plausibility flags raised by the stored records ('SAMPLE: flag: reason'); they never stop an import
    warnings: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        lines = []
        verb = 'would create' if self.dry_run else 'created'
        for name, counts in self.plan.counts().items():
            lines.append(f'{name:<13} {verb} {counts["new"]:>4}, unchanged {counts["unchanged"]:>4}')
        return '\n'.join(lines)


class _Storer:
    """Stores the new entries of a plan, one step per entry."""

    def __init__(self, plan: Plan, report: ImportReport, tick: Callable[[str], None]):
        self.plan, self.report, self.tick = plan, report, tick
        self.group: orm.Group | None = None
        self.pending: list[orm.Node] = []
        self.summaries: list[orm.Dict] = []
        self.known: dict[str, MaterialData] = {}
        self.batch: list[tuple[str, str]] = []

    def steps(self) -> Iterator[Callable[[], None]]:
        """One callable per new entry, in dependency order."""
        plan = self.plan
        yield from (lambda p=p: self._material(p) for p in plan.materials if p.status == 'new')
        yield from (lambda p=p: self._process(p) for p in plan.processes if p.status == 'new')
        yield from (lambda p=p: self._cell(p) for p in plan.cells if p.status == 'new')
        yield from (lambda p=p: self._literature(p) for p in plan.literature_values if p.status == 'new')
        yield from (lambda p=p: self._measurement(p) for p in plan.measurements if p.status == 'new')

    def load_known(self) -> None:
        """The stored materials the plan refers to (unchanged entries and inputs from the database)."""
        ids = {p.spec.sample_id for p in self.plan.materials if p.status != 'new'}
        ids |= {a.material for p in self.plan.processes for a in p.inputs}
        ids |= {layer.material for c in self.plan.cells for layer in c.spec.layers}
        ids |= {v.spec.material for v in self.plan.literature_values}
        self.known.update({key: node for key, node in find_samples(ids).items() if isinstance(node, MaterialData)})

    def open_batch(self) -> None:
        self.group = get_or_create_campaign_group(self.plan.campaign, self.plan.description)
        self.pending, self.batch = [], []

    def close_batch(self) -> None:
        if self.pending:
            if self.group is None:
                raise RuntimeError('a batch is closed that was never opened')
            self.group.add_nodes(self.pending)
        self.pending = []

    def committed(self) -> None:
        """The batch is stored: report its entries."""
        for section, name in self.batch:
            self.report.created.setdefault(section, []).append(name)
        self.batch = []

    def _created(self, section: str, name: str, nodes: list[orm.Node]) -> None:
        self.pending.extend(nodes)
        self.batch.append((section, name))
        self.tick(f'{section} {name}')

    def _material(self, planned) -> None:
        node = MaterialData(planned.spec)
        node.store()
        self.known[planned.spec.sample_id] = node
        self._created('materials', planned.spec.sample_id, [node])

    def _process(self, process) -> None:
        material, process_node = record_module.record_step(
            process.kind, process.inputs, process.output, process.parameters.stored(), materials=self.known
        )
        self.known[material.sample_id] = material
        self._warn(material)
        self._created('processes', f'{process.kind} -> {material.sample_id}', [material, process_node])

    def _cell(self, planned) -> None:
        cell, process_node = record_module.assemble_cell(planned.spec, materials=self.known)
        self._warn(cell)
        self._created('cells', cell.sample_id, [cell, process_node])

    def _warn(self, node: orm.Node) -> None:
        """The plausibility flags a stored record carries, one line each (see "How aiida-ssb counts")."""
        sample_id = node.base.attributes.get('sample_id', None)
        for item in node.base.attributes.get('flags', None) or []:
            line = f'{sample_id}: {item.get("flag")}: {item.get("reason", "")}'
            if line not in self.report.warnings:  # a batch stored again after a conflict flags once
                self.report.warnings.append(line)

    def _literature(self, planned) -> None:
        summary, process_node = record_module.record_literature(
            planned.spec, material=self.known.get(planned.spec.material), default_reference=self.plan.reference
        )
        self.summaries.append(summary)
        self._created('literature_values', planned.spec.id, [summary, process_node])

    def _measurement(self, planned) -> None:
        created = measurements_module.store_measurement(planned.entry, planned.file)
        raw = next(node for node in created if isinstance(node, orm.SinglefileData))
        register_raw_file(raw)  # the database constraint that a file is stored once, in this transaction
        self._created('measurements', os.path.basename(planned.file), created)


def run_import(
    plan: Plan,
    *,
    progress: Callable[[str], None] | None = None,
    single_transaction: bool = False,
    batch_seconds: float = BATCH_SECONDS,
    report: ImportReport | None = None,
) -> ImportReport:
    """Store a validated plan (its new entries) and put everything in the campaign group.

    The entries are stored in transactions of about ``batch_seconds`` each (one transaction with
    ``single_transaction``); a failure rolls back the batch it happened in and is raised. ``report`` continues
    the report of an earlier, interrupted attempt (the entries it stored are then 'unchanged' in ``plan``)."""
    report = report or ImportReport(plan, group_label=campaign_label(plan.campaign))
    report.plan = plan
    storer = _Storer(plan, report, progress or (lambda message: None))
    storer.load_known()
    steps = storer.steps()
    step = next(steps, None)
    if step is None:
        with write_transaction('import'):
            storer.open_batch()
        report.transactions = 1
        return report
    while step is not None:
        started = time.monotonic()
        with write_transaction('import'):
            storer.open_batch()
            while step is not None:
                step()
                step = next(steps, None)
                if not single_transaction and time.monotonic() - started >= batch_seconds:
                    break
            storer.close_batch()
        storer.committed()
        report.transactions += 1
    if storer.summaries:
        index_materials(storer.summaries)
    return report


def import_manifest(
    path: str | os.PathLike[str],
    *,
    dry_run: bool = False,
    progress=None,
    attempts: int = 5,
    allow_outside: bool = False,
    single_transaction: bool = False,
    plan: Plan | None = None,
) -> ImportReport:
    """Validate and (unless ``dry_run``) store a manifest. Raises :class:`ManifestError` for a bad manifest,
    :class:`~aiida_ssb.data.storage.DatabaseLockedError` when SQLite stays locked by another writer beyond the
    busy timeout.

    When another importer stores some of the same samples or raw files at the same time, this import's current
    transaction fails as a whole (the registries are database constraints); it is then planned again, against
    what is now stored, and goes on: the result is one copy of everything, whoever came first. It gives up after
    ``attempts`` conflicts in a row that left as much to store as before (a conflict after which less is left is
    progress, however many there are). ``plan`` is a
    plan of the same manifest made just before (not made again)."""
    plan = plan or plan_import(path, allow_outside=allow_outside)
    if dry_run:
        return ImportReport(plan, dry_run=True, group_label=campaign_label(plan.campaign))
    report = ImportReport(plan, group_label=campaign_label(plan.campaign))
    stalled = 0  # conflicts in a row after which the other writer had stored nothing of ours
    while True:
        try:
            return run_import(plan, progress=progress, single_transaction=single_transaction, report=report)
        except Exception as exc:
            if not is_concurrency_conflict(exc):
                raise
            reset_session()
            before = plan.n_new
            plan = plan_import(path, allow_outside=allow_outside)
            # a writer ahead of us on the same manifest makes us meet it batch after batch: that is progress
            # (less is left to store), so only conflicts that leave as much to do count against `attempts`
            stalled = stalled + 1 if plan.n_new >= before else 0
            if stalled >= attempts:
                raise
            time.sleep(0.2 * stalled + random.random() * 0.3)
