"""Impedance analysis: equivalent-circuit model and fit, data-driven start values, lin-KK test.

Pure numpy/scipy (scipy is imported only when a fit runs, so importing this package is cheap).

>>> from aiida_ssb.analysis.eis import Circuit, fit_circuit, lin_kk
>>> circuit = Circuit('R0-p(R1,CPE1)-p(R2,CPE2)-CPE3')
>>> circuit.parameter_keys[:3]
('r0_ohm', 'r1_ohm', 'cpe1_q_s_sa')
"""

from aiida_ssb.analysis.eis.circuit import Circuit, CircuitSyntaxError, ElementInfo, ParameterError
from aiida_ssb.analysis.eis.elements import ELEMENT_KINDS, UNIT_TOKENS
from aiida_ssb.analysis.eis.fit import WEIGHTINGS, EisFitError, EisFitResult, data_bounds, fit_circuit, prepare_spectrum
from aiida_ssb.analysis.eis.guess import GuessResult, initial_guess
from aiida_ssb.analysis.eis.kk import KKResult, lin_kk

__all__ = [
    'ELEMENT_KINDS',
    'UNIT_TOKENS',
    'WEIGHTINGS',
    'Circuit',
    'CircuitSyntaxError',
    'EisFitError',
    'EisFitResult',
    'ElementInfo',
    'GuessResult',
    'KKResult',
    'ParameterError',
    'data_bounds',
    'fit_circuit',
    'initial_guess',
    'lin_kk',
    'prepare_spectrum',
]
