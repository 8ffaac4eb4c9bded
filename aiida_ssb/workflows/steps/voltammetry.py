"""Steps of the voltammetry analyses: onsets and stepwise CV."""

from __future__ import annotations

from typing import Any

from aiida_ssb.calculations.voltammetry import (
    analyse_onsets,
    analyse_stepwise_cv,
    rising_cutoffs,
    working_electrode_of,
)
from aiida_ssb.query.records import electrolyte_of
from aiida_ssb.workflows.run import AnalysisRun, shared_dict

__all__ = ['onsets', 'stepwise_cv']


def _voltammetry_inputs(run: AnalysisRun) -> dict[str, Any]:
    inputs: dict[str, Any] = {'cell': run.cell}
    electrolyte = electrolyte_of(run.cell)
    if electrolyte is not None:
        inputs['electrolyte'] = electrolyte
    return inputs


def onsets(run: AnalysisRun) -> None:
    """Oxidative/reductive onsets of every voltammogram, with the working-electrode validity flags."""
    voltammograms = run.labelled('voltammetry')
    if not voltammograms:
        run.skip('onsets', 'no voltammogram')
        return
    inputs = _voltammetry_inputs(run)
    inputs['options'] = run.settings_node('onsets')
    description = working_electrode_of(run.cell)
    if description:
        inputs['working_electrode'] = shared_dict(description)
    for label, measurement in voltammograms:
        run.call('onsets', analyse_onsets, label, measurement=measurement, **inputs)


def stepwise_cv(run: AnalysisRun) -> None:
    """The stepwise analysis of every voltammogram whose upper cut-off rises step by step."""
    settings = run.settings('stepwise_cv')
    stepwise = [
        (label, node)
        for label, node in run.labelled('voltammetry')
        if rising_cutoffs(node, settings.min_steps, settings.ucv_tolerance_v)
    ]
    if not stepwise:
        run.skip('stepwise_cv', 'no voltammogram with rising cut-offs', applies=False)  # another protocol
        return
    inputs = _voltammetry_inputs(run)
    inputs['options'] = run.settings_node('stepwise_cv')
    for label, measurement in stepwise:
        run.call('stepwise_cv', analyse_stepwise_cv, label, measurement=measurement, **inputs)
