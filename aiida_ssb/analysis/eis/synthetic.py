"""Known-answer impedance spectra: pellets and cells whose circuits, resistances and conductivities are known.

Used by the tests, the benchmarks and the worked examples of the docs to check the automatic path (model
choice, roles, conductivity, Arrhenius) against the answer it must find. Every arc is ``p(R, CPE)`` with
``Z = R / (1 + R Q (j omega)^alpha)``; the electrode of a blocking pellet a series CPE. Noise is proportional and
complex: ``Z (1 + e (n' + j n'') / sqrt(2))`` with ``n', n''`` standard normal (``e`` = 0.2-1 % as an analyser's
relative accuracy).

Pellets (:func:`pellet_series`): a bulk arc (geometric capacitance, ``epsilon_r``), optionally a grain-boundary
arc (specific capacitance about 1e-9 F/cm) and an electrode-interface arc (about 1e-6 F/cm), and the blocking
electrode, each resistance thermally activated in the ``sigma T`` form (``R = R_25 (T/T_25) exp(Ea/k_B (1/T -
1/T_25))``) so that the arcs move to higher frequencies as the temperature rises and leave the measured window.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable

import numpy as np

from aiida_ssb.analysis.eis.circuit import Circuit

__all__ = ['K_B_EV_PER_K', 'KnownSpectrum', 'add_noise', 'full_cell_series', 'pellet_series', 'visible_circuit']

K_B_EV_PER_K = 8.617333262e-5
EPSILON_0_F_CM = 8.8541878128e-14


@dataclasses.dataclass
class KnownSpectrum:
    """A spectrum with its generating circuit, parameter values, roles and the quantities to recover."""

    frequency_hz: np.ndarray
    z: np.ndarray
    circuit: str
    values: dict[str, float]
    roles: dict[str, str]
    temperature_c: float | None = None
    thickness_cm: float | None = None
    area_cm2: float | None = None
    state: dict[str, float] = dataclasses.field(default_factory=dict)

    def resistance(self, role: str) -> float:
        return sum(self.values[e] for e, r in self.roles.items() if r == role and e in self.values)

    def apex_hz(self, resistor: str) -> float:
        """Characteristic frequency of the arc holding ``resistor``."""
        index = resistor[1:]
        r, q, a = self.values[resistor], self.values[f'CPE{index}_Q'], self.values[f'CPE{index}_alpha']
        return float(1.0 / (2.0 * math.pi * float(r * q) ** (1.0 / a)))

    def in_window(self, resistor: str) -> bool:
        return float(self.frequency_hz.min()) <= self.apex_hz(resistor) <= float(self.frequency_hz.max())

    @property
    def conductivity_s_cm(self) -> float:
        if self.thickness_cm is None or self.area_cm2 is None:
            raise ValueError('a spectrum without thickness and area has no conductivity')
        return self.thickness_cm / (self.resistance('bulk') * self.area_cm2)


def add_noise(z: np.ndarray, relative: float, rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(z.size) + 1j * rng.standard_normal(z.size)
    return z * (1.0 + relative * noise / math.sqrt(2.0))


def _activated(r25: float, ea: float, t_c: float) -> float:
    """``R(T)`` of a process whose conductivity follows ``sigma T = sigma0 exp(-Ea/k_B T)`` (the package's default
    Arrhenius form): ``R = R_25 (T/T_25) exp(Ea/k_B (1/T - 1/T_25))``."""
    t_k = t_c + 273.15
    return r25 * (t_k / 298.15) * math.exp(ea / K_B_EV_PER_K * (1.0 / t_k - 1.0 / 298.15))


def _q_for(c_eff: float, r: float, alpha: float) -> float:
    """Q of a p(R, CPE) whose effective capacitance is ``c_eff``: ``C = Q^(1/a) R^((1-a)/a)``."""
    return float(c_eff**alpha / r ** (1.0 - alpha))


def pellet_series(
    n_arcs: int,
    temperatures_c: Iterable[float],
    *,
    sigma_25c_s_cm: float = 1e-4,
    activation_ev: tuple[float, float, float] = (0.35, 0.45, 0.55),
    resistance_ratios: tuple[float, float] = (2.0, 3.0),
    thickness_cm: float = 0.05,
    area_cm2: float = math.pi * 0.5**2,
    epsilon_r: float = 15.0,
    alphas: tuple[float, float, float] = (0.92, 0.85, 0.82),
    electrode_q: float = 3e-6,
    electrode_alpha: float = 0.85,
    frequency_hz: np.ndarray | None = None,
    noise: float = 0.005,
    seed: int = 0,
) -> list[KnownSpectrum]:
    """A blocking pellet measured at each temperature: ``n_arcs`` = 1 (bulk), 2 (+ grain boundary) or 3 (+ an
    electrode-interface arc), then the blocking electrode. ``resistance_ratios``: the grain-boundary and interface
    resistances at 25 C relative to the bulk's."""
    f = np.logspace(7, -1, 70) if frequency_hz is None else np.asarray(frequency_hz, dtype=float)
    rng = np.random.default_rng(seed)
    r_bulk_25 = thickness_cm / (sigma_25c_s_cm * area_cm2)
    c_bulk = EPSILON_0_F_CM * epsilon_r * area_cm2 / thickness_cm
    # specific capacitances of the grain boundary (F/cm) and the interface, scaled by A/L to capacitances (F)
    c_arcs = (c_bulk, 1e-9 * area_cm2 / thickness_cm, 1e-6 * area_cm2 / thickness_cm)
    roles_order = ('bulk', 'grain_boundary', 'electrode')
    spectra = []
    for t_c in temperatures_c:
        parts, values, roles = [], {}, {}
        for k in range(n_arcs):
            r25 = r_bulk_25 * (1.0 if k == 0 else resistance_ratios[k - 1])
            r = _activated(r25, activation_ev[k], float(t_c))
            q = _q_for(c_arcs[k], r, alphas[k])
            parts.append(f'p(R{k + 1},CPE{k + 1})')
            values.update({f'R{k + 1}': r, f'CPE{k + 1}_Q': q, f'CPE{k + 1}_alpha': alphas[k]})
            roles[f'R{k + 1}'] = roles_order[k]
        electrode = f'CPE{n_arcs + 1}'
        parts.append(electrode)
        values.update({f'{electrode}_Q': electrode_q, f'{electrode}_alpha': electrode_alpha})
        roles[electrode] = 'electrode'
        spec = '-'.join(parts)
        z = add_noise(Circuit(spec).impedance(f, values), noise, rng)
        spectra.append(
            KnownSpectrum(f, z, spec, values, roles, float(t_c), thickness_cm, area_cm2, {'temperature_c': float(t_c)})
        )
    return spectra


def full_cell_series(
    cycles: Iterable[int],
    *,
    area_cm2: float = math.pi * 0.6**2,
    r0_ohm_cm2: float = 50.0,
    interface_ohm_cm2: Callable[[int], float] = lambda cycle: 31.0 + 1.2 * cycle,
    interphase_ohm_cm2: Callable[[int], float] = lambda cycle: 20.0 * cycle**1.2,
    frequency_hz: np.ndarray | None = None,
    noise: float = 0.005,
    seed: int = 0,
) -> list[KnownSpectrum]:
    """A full cell (seed 000): R0, the metal/electrolyte interface arc (kHz) and, after cycling only, the cathode
    interphase arc (below 1 kHz); before cycling (cycle 0) the cathode blocks (a series CPE)."""
    f = np.logspace(np.log10(2e5), -2, 71) if frequency_hz is None else np.asarray(frequency_hz, dtype=float)
    rng = np.random.default_rng(seed)
    spectra = []
    for cycle in cycles:
        r0, r1 = r0_ohm_cm2 / area_cm2, interface_ohm_cm2(cycle) / area_cm2
        values = {'R0': r0, 'R1': r1, 'CPE1_Q': 1e-6, 'CPE1_alpha': 0.9}
        roles = {'R0': 'electrolyte', 'R1': 'interface'}
        if cycle == 0:
            spec = 'R0-p(R1,CPE1)-CPE2'
            values.update({'CPE2_Q': 5e-4, 'CPE2_alpha': 0.9})
            roles['CPE2'] = 'electrode'
        else:
            spec = 'R0-p(R1,CPE1)-p(R2,CPE2)'
            values.update({'R2': interphase_ohm_cm2(cycle) / area_cm2, 'CPE2_Q': 2e-4, 'CPE2_alpha': 0.85})
            roles['R2'] = 'cathode_interphase'
        z = add_noise(Circuit(spec).impedance(f, values), noise, rng)
        spectra.append(KnownSpectrum(f, z, spec, values, roles, 25.0, None, area_cm2, {'cycle_index': float(cycle)}))
    return spectra


def visible_circuit(spectrum: KnownSpectrum) -> str:
    """The generating circuit as the measured window shows it: arcs whose apex lies above the highest frequency by
    more than a decade appear as a series resistance (``R0``); the others stay."""
    f_max = float(spectrum.frequency_hz.max())
    kept, hidden = [], False
    names = [e.name for e in Circuit(spectrum.circuit).elements]
    resistors = [n for n in names if n.startswith('R') and f'CPE{n[1:]}' in names]
    for r in resistors:
        if spectrum.apex_hz(r) > 10.0 * f_max:
            hidden = True
        else:
            kept.append(r)
    parts = (['R0'] if hidden or 'R0' in names else []) + [f'p(R{k + 1},CPE{k + 1})' for k in range(len(kept))]
    tails = [n for n in names if n.startswith('CPE') and n[3:] not in {r[1:] for r in resistors}]
    if tails:
        parts.append(f'CPE{len(kept) + 1}')
    return '-'.join(parts)
