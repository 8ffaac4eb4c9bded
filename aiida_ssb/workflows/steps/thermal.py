"""Step of the thermal analysis: every DSC/TGA/STA record of the sample (a material, or a pellet)."""

from __future__ import annotations

from typing import Any

from aiida_ssb.calculations.thermal import analyse_thermal
from aiida_ssb.query.records import electrolyte_of
from aiida_ssb.workflows.run import AnalysisRun

__all__ = ['thermal']


def thermal(run: AnalysisRun) -> None:
    """DSC events and TGA steps of every thermal record."""
    records = run.labelled('thermal')
    if not records:
        run.skip('thermal', 'no thermal record')
        return
    options = run.settings_node('thermal')
    electrolyte = electrolyte_of(run.cell) if run.cell.base.attributes.get('layers', None) else None
    for label, node in records:
        inputs: dict[str, Any] = {'measurement': node, 'sample': run.cell, 'options': options}
        if electrolyte is not None:
            inputs['electrolyte'] = electrolyte
        run.call('thermal', analyse_thermal, label, **inputs)
