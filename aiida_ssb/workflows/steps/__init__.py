"""The steps of a cell's analysis: one function per analysis of the registry, run in registry order.

Each step looks at the :class:`~aiida_ssb.workflows.run.AnalysisRun` (the cell, its measurements, the options,
the results of earlier steps), decides whether its analysis applies (saying why not in ``run.skipped``) and
calls the analysis's process function once per measurement (or once per series). Defaults that depend on the
cell (the circuit of its format, the state label to track) are chosen here and stored with the result, since
the resolved settings (every field) are the ``options`` input of each process function.
"""

from aiida_ssb.workflows.steps.cycling import ccd, cycling
from aiida_ssb.workflows.steps.diffraction import diffraction
from aiida_ssb.workflows.steps.electrochem import dc_polarisation, dqdv, gitt, pitt, transference_number
from aiida_ssb.workflows.steps.impedance import (
    CANDIDATE_FAMILIES,
    DEFAULT_CIRCUITS,
    STATE_LABELS,
    arrhenius,
    cell_impedance,
    conductivity,
    drt,
    eis_fit,
    impedance_route,
    interface_growth,
)
from aiida_ssb.workflows.steps.thermal import thermal
from aiida_ssb.workflows.steps.voltammetry import onsets, stepwise_cv

__all__ = [
    'CANDIDATE_FAMILIES',
    'DEFAULT_CIRCUITS',
    'STATE_LABELS',
    'arrhenius',
    'ccd',
    'cell_impedance',
    'conductivity',
    'cycling',
    'dc_polarisation',
    'diffraction',
    'dqdv',
    'drt',
    'eis_fit',
    'gitt',
    'impedance_route',
    'interface_growth',
    'onsets',
    'pitt',
    'stepwise_cv',
    'thermal',
    'transference_number',
]
