"""Steps of the galvanostatic analyses: cycling summary and critical current density."""

from __future__ import annotations

from aiida import orm

from aiida_ssb.calculations.cycling import analyse_ccd, analyse_cycling
from aiida_ssb.data.measurements import SymmetricCellData
from aiida_ssb.workflows.run import AnalysisRun

__all__ = ['ccd', 'cycling']


def _galvanostatic(run: AnalysisRun, symmetric: bool) -> list[tuple[str, orm.Data]]:
    return [
        (label, node)
        for label, node in run.labelled('cycling')
        if node.technique not in ('ocv', 'wait', 'ca') and isinstance(node, SymmetricCellData) == symmetric
    ]


def cycling(run: AnalysisRun) -> None:
    """The cycling summary of every galvanostatic record of a non-symmetric cell."""
    records = _galvanostatic(run, symmetric=False)
    if not records:
        run.skipped['cycling'] = 'no galvanostatic record'
        return
    options = run.settings_node('cycling')
    for label, measurement in records:
        run.call('cycling', analyse_cycling, label, measurement=measurement, cell=run.cell, options=options)


def ccd(run: AnalysisRun) -> None:
    """The critical current density of every record of a symmetric cell."""
    records = _galvanostatic(run, symmetric=True)
    if not records:
        run.skipped['ccd'] = 'no record of a symmetric cell'
        return
    options = run.settings_node('ccd')
    for label, measurement in records:
        run.call('ccd', analyse_ccd, label, measurement=measurement, cell=run.cell, options=options)
