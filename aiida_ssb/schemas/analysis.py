"""Options of every analysis, by section: the settings types of :mod:`aiida_ssb.analysis`, as the manifest's
``analysis:`` sections, ``--set`` and the ``options`` input of the analysis processes know them.

There is one definition per analysis, its settings type in the pure layer (listed in
:mod:`aiida_ssb.analysis.registry`); the names below are aliases kept for code written against aiida-ssb 0.1.
"""

from __future__ import annotations

from typing import Any

from aiida_ssb.analysis.arrhenius import ArrheniusSettings as ArrheniusOptions
from aiida_ssb.analysis.ccd import CcdSettings as CcdOptions
from aiida_ssb.analysis.conductivity import ConductivitySettings as ConductivityOptions
from aiida_ssb.analysis.cycling import STANDARD_RETENTION_CYCLES, parse_reference
from aiida_ssb.analysis.cycling import CyclingSettings as CyclingOptions
from aiida_ssb.analysis.eis.fit import FitSettings as EisFitOptions
from aiida_ssb.analysis.growth import GrowthSettings as GrowthOptions
from aiida_ssb.analysis.registry import ANALYSES
from aiida_ssb.analysis.settings import Settings
from aiida_ssb.analysis.voltammetry import OnsetSettings as OnsetOptions
from aiida_ssb.analysis.voltammetry import StepwiseCvSettings as StepwiseCvOptions

__all__ = [
    'STANDARD_RETENTION_CYCLES',
    'ArrheniusOptions',
    'CcdOptions',
    'ConductivityOptions',
    'CyclingOptions',
    'EisFitOptions',
    'GrowthOptions',
    'OnsetOptions',
    'StepwiseCvOptions',
    'analysis_options',
    'parse_reference',
]


def analysis_options() -> dict[str, type[Settings]]:
    """Analysis name -> settings type, from the registry (one entry per option section)."""
    return {name: spec.settings for name, spec in ANALYSES.items()}


def __getattr__(name: str) -> Any:
    if name == 'ANALYSIS_OPTIONS':  # 0.1 name of analysis_options()
        return analysis_options()
    raise AttributeError(name)
