"""Circuit elements: impedance and analytic derivatives with respect to each parameter.

Every element kind is an :class:`ElementKind`: its symbol in circuit strings, its parameters (name
suffix, unit, storage-key unit token, whether the fitter works on its logarithm) and one vectorised
function ``evaluate(omega, values) -> (z, dz_dp)`` returning the complex impedance (shape ``(n,)``)
and the complex derivatives with respect to each *linear* parameter (shape ``(n, k)``), where
``omega = 2 pi f`` in rad/s.

Formulas (``s = j omega``):

========  =======================================  =====================================
symbol    impedance                                parameters (unit)
========  =======================================  =====================================
``R``     ``R``                                    ``R`` (ohm)
``C``     ``1 / (s C)``                            ``C`` (F)
``L``     ``s L``                                  ``L`` (H)
``CPE``   ``1 / (Q s**alpha)``                     ``Q`` (S s^alpha), ``alpha`` (1)
``W``     ``sigma (1 - j) / sqrt(omega)``          ``sigma`` (ohm s^-0.5)
``Wo``    ``R coth(sqrt(s tau)) / sqrt(s tau)``    ``R`` (ohm), ``tau`` (s)
``Ws``    ``R tanh(sqrt(s tau)) / sqrt(s tau)``    ``R`` (ohm), ``tau`` (s)
========  =======================================  =====================================

``W`` is the semi-infinite Warburg element written with the Warburg coefficient ``sigma``:
``sigma (1 - j) / sqrt(omega) = sqrt(2) sigma / sqrt(j omega)`` (the same convention as impedance.py's
``W``). ``Wo`` is the finite-length Warburg with a reflective (blocking, "open") boundary: it becomes
capacitive at low frequency. ``Ws`` is the finite-length Warburg with a transmissive ("short")
boundary: it closes on the real axis at ``R``. Both tend to ``R / sqrt(s tau)`` at high frequency, so
``sigma = R / sqrt(2 tau)`` there.

``coth`` and ``tanh`` are evaluated through ``exp(-2x)`` and ``expm1`` (``Re x > 0`` always), which is
exact for large ``|x|`` (no overflow) and for small ``|x|`` (no cancellation).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

__all__ = ['ELEMENT_KINDS', 'KIND_SYMBOLS', 'UNIT_TOKENS', 'ElementKind', 'ParameterSpec']

#: unit string -> token appended to storage keys ('' = dimensionless, no token).
UNIT_TOKENS: dict[str, str] = {
    'ohm': 'ohm',
    'F': 'f',
    'H': 'h',
    'S s^alpha': 's_sa',
    '1': '',
    'ohm s^-0.5': 'ohm_per_sqrt_s',
    's': 's',
}


@dataclasses.dataclass(frozen=True)
class ParameterSpec:
    """One parameter of an element kind.

    ``suffix`` is appended to the element name with an underscore (``CPE1_Q``); ``None`` means the
    parameter is named by the element name alone (``R1``). ``log`` marks positive scale parameters that
    the fitter optimises as their natural logarithm; the others (``alpha``) are fitted linearly
    within ``bounds``.
    """

    suffix: str | None
    unit: str
    log: bool
    bounds: tuple[float, float]
    description: str

    @property
    def unit_token(self) -> str:
        return UNIT_TOKENS[self.unit]


Evaluator = Callable[[np.ndarray, np.ndarray, bool], tuple[np.ndarray, 'np.ndarray | None']]
_Evaluated = tuple[np.ndarray, 'np.ndarray | None']


@dataclasses.dataclass(frozen=True)
class ElementKind:
    """An element type usable in circuit strings."""

    symbol: str
    description: str
    parameters: tuple[ParameterSpec, ...]
    evaluate: Evaluator


_POSITIVE = (0.0, np.inf)
_ALPHA = (0.0, 1.0)


def _resistor(omega: np.ndarray, p: np.ndarray, jac: bool) -> _Evaluated:
    z = np.full(omega.shape, complex(p[0]))
    if not jac:
        return z, None
    return z, np.ones((omega.size, 1), dtype=complex)


def _capacitor(omega: np.ndarray, p: np.ndarray, jac: bool) -> _Evaluated:
    z = 1.0 / (1j * omega * p[0])
    if not jac:
        return z, None
    return z, (-z / p[0])[:, None]


def _inductor(omega: np.ndarray, p: np.ndarray, jac: bool) -> _Evaluated:
    z = 1j * omega * p[0]
    if not jac:
        return z, None
    return z, (1j * omega)[:, None]


def _cpe(omega: np.ndarray, p: np.ndarray, jac: bool) -> _Evaluated:
    q, alpha = p[0], p[1]
    log_s = np.log(omega) + 0.5j * np.pi  # ln(j omega)
    z = np.exp(-alpha * log_s) / q
    if not jac:
        return z, None
    out = np.empty((omega.size, 2), dtype=complex)
    out[:, 0] = -z / q
    out[:, 1] = -z * log_s
    return z, out


_ONE_MINUS_J = 1.0 - 1.0j


def _warburg(omega: np.ndarray, p: np.ndarray, jac: bool) -> _Evaluated:
    unit = _ONE_MINUS_J / np.sqrt(omega)
    z = p[0] * unit
    if not jac:
        return z, None
    return z, unit[:, None]


def _sqrt_s_tau(omega: np.ndarray, tau: float) -> np.ndarray:
    # sqrt(j omega tau) = sqrt(omega tau) * exp(j pi / 4), Re > 0
    root: np.ndarray = np.sqrt(omega * tau) * np.exp(0.25j * np.pi)
    return root


def _warburg_open(omega: np.ndarray, p: np.ndarray, jac: bool) -> _Evaluated:
    r, tau = p[0], p[1]
    x = _sqrt_s_tau(omega, tau)
    e = np.exp(-2.0 * x)
    den = -np.expm1(-2.0 * x)  # 1 - exp(-2x)
    coth = (1.0 + e) / den
    z = r * coth / x
    if not jac:
        return z, None
    csch2 = 4.0 * e / (den * den)
    out = np.empty((omega.size, 2), dtype=complex)
    out[:, 0] = z / r
    # d/dtau [coth(x)/x] with dx/dtau = x / (2 tau)
    out[:, 1] = -r / (2.0 * tau) * (csch2 + coth / x)
    return z, out


def _warburg_short(omega: np.ndarray, p: np.ndarray, jac: bool) -> _Evaluated:
    r, tau = p[0], p[1]
    x = _sqrt_s_tau(omega, tau)
    e = np.exp(-2.0 * x)
    den = 1.0 + e
    tanh = -np.expm1(-2.0 * x) / den
    z = r * tanh / x
    if not jac:
        return z, None
    sech2 = 4.0 * e / (den * den)
    out = np.empty((omega.size, 2), dtype=complex)
    out[:, 0] = z / r
    out[:, 1] = r / (2.0 * tau) * (sech2 - tanh / x)
    return z, out


ELEMENT_KINDS: dict[str, ElementKind] = {
    'R': ElementKind('R', 'resistor', (ParameterSpec(None, 'ohm', True, _POSITIVE, 'resistance'),), _resistor),
    'C': ElementKind('C', 'capacitor', (ParameterSpec(None, 'F', True, _POSITIVE, 'capacitance'),), _capacitor),
    'L': ElementKind('L', 'inductor', (ParameterSpec(None, 'H', True, _POSITIVE, 'inductance'),), _inductor),
    'CPE': ElementKind(
        'CPE',
        'constant-phase element',
        (
            ParameterSpec('Q', 'S s^alpha', True, _POSITIVE, 'CPE coefficient Q'),
            ParameterSpec('alpha', '1', False, _ALPHA, 'CPE exponent alpha (1 = ideal capacitor)'),
        ),
        _cpe,
    ),
    'W': ElementKind(
        'W',
        'semi-infinite Warburg diffusion',
        (ParameterSpec('sigma', 'ohm s^-0.5', True, _POSITIVE, 'Warburg coefficient sigma'),),
        _warburg,
    ),
    'Wo': ElementKind(
        'Wo',
        'finite-length Warburg, reflective (open) boundary',
        (
            ParameterSpec('R', 'ohm', True, _POSITIVE, 'diffusion resistance'),
            ParameterSpec('tau', 's', True, _POSITIVE, 'diffusion time constant'),
        ),
        _warburg_open,
    ),
    'Ws': ElementKind(
        'Ws',
        'finite-length Warburg, transmissive (short) boundary',
        (
            ParameterSpec('R', 'ohm', True, _POSITIVE, 'diffusion resistance'),
            ParameterSpec('tau', 's', True, _POSITIVE, 'diffusion time constant'),
        ),
        _warburg_short,
    ),
}

#: Element symbols, longest first: the parser matches the longest symbol that starts a name.
KIND_SYMBOLS: tuple[str, ...] = tuple(sorted(ELEMENT_KINDS, key=lambda s: (-len(s), s)))
