"""Finding analysis results in the graph: the latest summary of an analysis for a sample, with its curves."""

from __future__ import annotations

from typing import NamedTuple

from aiida import orm

from aiida_ssb.exceptions import InputError

__all__ = [
    'Result',
    'headline_record_pks',
    'latest_result',
    'latest_results',
    'measured_record',
    'process_record',
    'results_by_record',
]


class Result(NamedTuple):
    summary: orm.Dict
    curves: orm.ArrayData | None
    process: orm.ProcessNode

    def inputs(self, label: str):
        return self.process.inputs[label] if label in self.process.inputs else None


def latest_results(sample_id: str, analysis: str, *, limit: int | None = None) -> list[Result]:
    """The summaries of ``analysis`` (eis_fit, conductivity, arrhenius, onsets, cycling, ccd, interface_growth)
    recorded for ``sample_id``, newest first, with their curves and process."""
    query = orm.QueryBuilder()
    query.append(
        orm.Dict,
        filters={'attributes.analysis': analysis, 'attributes.sample_id': sample_id},
        project='*',
        tag='summary',
    )
    query.append(orm.CalcFunctionNode, with_outgoing='summary', project='*', tag='process')
    query.order_by({'summary': {'ctime': 'desc'}})
    if limit:
        query.limit(limit)
    results = []
    for summary, process in query.all():
        curves = process.outputs.curves if 'curves' in process.outputs else None
        results.append(Result(summary, curves, process))
    return results


def latest_result(sample_id: str, analysis: str) -> Result:
    """The newest result of an analysis for a sample; a ValueError saying how to get one when there is none."""
    found = latest_results(sample_id, analysis, limit=1)
    if not found:
        raise InputError(f'{sample_id} has no {analysis} result yet: run `aiida-ssb analyse {sample_id}` first')
    return found[0]


def measured_record(result: Result, label: str = 'measurement'):
    """The measurement node an analysis ran on (``measurement`` or ``spectrum`` input)."""
    return process_record(result.process, label)


def process_record(process: orm.ProcessNode, label: str = 'measurement'):
    """The measurement node an analysis process ran on (``measurement`` or ``spectrum`` input), for a summary
    known only by its creator."""
    for name in (label, 'spectrum', 'measurement'):
        if name in process.inputs:
            return process.inputs[name]
    return None


def headline_record_pks(sample: orm.Node, analysis: str | None = None) -> set[int]:
    """The pks of the records the sample's headline numbers (of ``analysis``, or of any) come from, through its
    latest cell summary's sources: what `aiida-ssb show` marks ``<- headline`` and a figure of one record draws
    by default."""
    index = sample.base.extras.get('ssb', None) or {}
    pks: set[int] = set()
    if not index.get('summary_uuid'):
        return pks
    try:
        sources: dict[str, str] = orm.load_node(index['summary_uuid']).base.attributes.get('sources', None) or {}
    except Exception:
        return pks
    for uuid in set(sources.values()):
        try:
            summary = orm.load_node(uuid)
        except Exception:
            continue
        if analysis is not None and summary.base.attributes.get('analysis', None) != analysis:
            continue
        creator = summary.creator
        record = process_record(creator) if creator is not None else None
        if record is not None:
            pks.add(record.pk)
    return pks


def results_by_record(sample: orm.Node, analysis: str) -> list[Result]:
    """The newest result of ``analysis`` of each record of the sample (not every run's), the headline record's
    first, then newest first: what figure choices of several records offer."""
    headline = headline_record_pks(sample, analysis)
    found, seen = [], set()
    for result in latest_results(sample.base.attributes.get('sample_id', None), analysis):
        record = measured_record(result)
        key = record.pk if record is not None else None
        if key in seen:
            continue
        seen.add(key)
        found.append(result)
    return sorted(
        found, key=lambda result: measured_record(result) is None or measured_record(result).pk not in headline
    )
