"""``analyse_*``: the analyses as cacheable process functions.

Each takes the measurement node(s), the measured cell or material where geometry or masses matter, and an
``options`` Dict (the analysis's resolved settings, :mod:`aiida_ssb.analysis.registry`); it returns a ``summary`` Dict (flat,
unit-suffixed numbers: the method, every parameter, the quality metrics) and, where there are curves, a
``curves`` :class:`~aiida_ssb.data.arrays.CurvesData`. Since every input that changes a result is a node, a re-analysis with the same
inputs can come from the cache, and a changed option gives a new, separate result.

Analyses that cannot run on their input (a one-directional record for a cycling summary, a spectrum that
cannot be fitted) finish with a non-zero exit status that names the kind of failure
(:mod:`aiida_ssb.exceptions`) and a message, never with a made-up number.

The process functions live in one module per family (:mod:`~aiida_ssb.calculations.impedance`,
:mod:`~aiida_ssb.calculations.voltammetry`, :mod:`~aiida_ssb.calculations.cycling`); this module gathers them.
"""

from __future__ import annotations

from aiida_ssb.calculations.common import ANALYSIS_FAILED, cell_masses_mg, run_analysis
from aiida_ssb.calculations.cycling import analyse_ccd, analyse_cycling
from aiida_ssb.calculations.diffraction import analyse_diffraction, record_rietveld
from aiida_ssb.calculations.electrochem import (
    analyse_dc_polarisation,
    analyse_dqdv,
    analyse_gitt,
    analyse_pitt,
    analyse_transference_number,
)
from aiida_ssb.calculations.impedance import (
    analyse_arrhenius,
    analyse_cell_impedance,
    analyse_conductivity,
    analyse_drt,
    analyse_eis_fit,
    analyse_interface_growth,
    resistance_from_fit,
)
from aiida_ssb.calculations.thermal import analyse_thermal
from aiida_ssb.calculations.voltammetry import (
    analyse_onsets,
    analyse_stepwise_cv,
    rising_cutoffs,
    working_electrode_of,
)

__all__ = [
    'ANALYSIS_FAILED',
    'analyse_arrhenius',
    'analyse_ccd',
    'analyse_cell_impedance',
    'analyse_conductivity',
    'analyse_cycling',
    'analyse_dc_polarisation',
    'analyse_diffraction',
    'analyse_dqdv',
    'analyse_drt',
    'analyse_eis_fit',
    'analyse_gitt',
    'analyse_interface_growth',
    'analyse_onsets',
    'analyse_pitt',
    'analyse_stepwise_cv',
    'analyse_thermal',
    'analyse_transference_number',
    'cell_masses_mg',
    'record_rietveld',
    'resistance_from_fit',
    'rising_cutoffs',
    'run_analysis',
    'working_electrode_of',
]
