"""Step of the diffraction analysis: every powder pattern of the sample (a material, or a pellet)."""

from __future__ import annotations

from typing import Any

from aiida_ssb.calculations.diffraction import analyse_diffraction
from aiida_ssb.query.records import electrolyte_of
from aiida_ssb.workflows.run import AnalysisRun

__all__ = ['diffraction']


def diffraction(run: AnalysisRun) -> None:
    """Peaks, phases, lattice and crystallite size of every diffraction pattern."""
    records = run.labelled('diffraction')
    if not records:
        run.skip('diffraction', 'no diffraction pattern')
        return
    options = run.settings_node('diffraction')
    electrolyte = electrolyte_of(run.cell) if run.cell.base.attributes.get('layers', None) else None
    for label, node in records:
        inputs: dict[str, Any] = {'measurement': node, 'sample': run.cell, 'options': options}
        if electrolyte is not None:
            inputs['electrolyte'] = electrolyte
        run.call('diffraction', analyse_diffraction, label, **inputs)
