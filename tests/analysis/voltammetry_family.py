"""A family of generated voltammetry sweeps with known two-line onsets (the generating model's intersections).

Each :class:`Case` is one anodic (or mirrored cathodic) sweep: a capacitive background ``C nu`` with a settling
transient at the start and a leakage slope, plus faradaic features whose asymptotes are straight lines, so that
the two-line intersection of the model is known exactly:

* ``knee(E0, slope, width)``: a rounded rise ``s w ln(1 + exp((E - E0)/w))``; its asymptotes (the background and
  the faradaic line ``s (E - E0)``) meet at ``E0``; the knee's width is ``w``.
* ``levelled(E0, slope, width, length)``: a rise that levels off after ``length`` volts (a limited amount of
  reactant): ``s w [ln(1 + exp((E - E0)/w)) - ln(1 + exp((E - E0 - length)/w))]``; its onset is ``E0`` and the
  plateau (``s length`` above the background) is the background of the next onset.
* ``tafel(E0, resistance, b)``: a Tafel current ``i0 exp((E - E_T)/b)`` limited by an ohmic line
  ``(E - E0)/R`` (harmonic combination ``1 / (1/i_T + 1/i_ohm)``); the ohmic line meets the background at ``E0``.
  ``E_T`` is placed so that the Tafel current reaches the ohmic line 5 b above ``E0``.

Noise is Gaussian with a standard deviation of ``noise_fraction`` of the largest current of the sweep; spikes
are single points. The significance of a feature is its height above its own background at the end of its
straight part (plateau height, or the current at the end of the sweep) in noise sigmas: the number the analysis
reports.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ['Case', 'Feature', 'generate']


@dataclasses.dataclass(frozen=True)
class Feature:
    kind: str  # 'knee', 'levelled', 'tafel'
    onset_v: float
    slope_ma_v: float  # faradaic slope (tafel: 1/R)
    width_v: float = 0.0  # knee width w (tafel: b)
    length_v: float | None = None  # levelled: length of the rise before it levels off

    def current(self, e: np.ndarray) -> np.ndarray:
        if self.kind == 'knee':
            return _softplus(e - self.onset_v, self.width_v) * self.slope_ma_v
        if self.kind == 'levelled':
            up = _softplus(e - self.onset_v, self.width_v) - _softplus(e - self.onset_v - self.length_v, self.width_v)
            return self.slope_ma_v * up
        # tafel limited by an ohmic line
        b = self.width_v
        ohmic = np.maximum(e - self.onset_v, 0.0) * self.slope_ma_v
        i_meet = 5.0 * b * self.slope_ma_v  # the Tafel current reaches the ohmic line at E0 + 5 b
        tafel = i_meet * np.exp((e - (self.onset_v + 5.0 * b)) / b)
        with np.errstate(divide='ignore'):
            return np.where(ohmic > 0, 1.0 / (1.0 / tafel + 1.0 / np.where(ohmic > 0, ohmic, 1.0)), 0.0)


def _softplus(z: np.ndarray, width: float) -> np.ndarray:
    if width <= 0:
        return np.maximum(z, 0.0)
    return width * np.logaddexp(0.0, z / width)


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    e_start: float
    e_end: float
    features: tuple[Feature, ...]
    scan_rate_mv_s: float = 0.01
    step_v: float = 0.002
    capacitance_f: float = 2e-3
    leak_ma_v: float = 2e-5
    noise_fraction: float = 0.003
    noise_of: str = 'max'  # the noise is a fraction of the largest current ('max') or of the first feature ('first')
    n_spikes: int = 0
    direction: str = 'anodic'
    seed: int = 0

    def model(self, e: np.ndarray) -> np.ndarray:
        """Noise-free current (reaction frame: positive for the reaction of the sweep's direction)."""
        capacitive = self.capacitance_f * self.scan_rate_mv_s  # mA: C [F] x nu [mV/s] = mA... (1e-3 V/s x 1e3 mA/A)
        settle = np.exp(-np.abs(e - self.e_start) / 0.02)
        background = capacitive * (1.0 - 2.0 * settle) + self.leak_ma_v * np.abs(e - self.e_start)
        return background + sum((f.current(e) for f in self.features), np.zeros_like(e))

    def sweep(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Potential (V), current (mA, real sign) and the noise's standard deviation (mA)."""
        rng = np.random.default_rng(self.seed)
        n = round(abs(self.e_end - self.e_start) / self.step_v) + 1
        e = np.linspace(self.e_start, self.e_end, n)
        y = self.model(e)
        scale = self.heights_ma()[0] if self.noise_of == 'first' else float(np.max(np.abs(y)))
        sigma = self.noise_fraction * scale
        y = y + rng.normal(0.0, sigma, n)
        if self.n_spikes:
            rows = rng.choice(np.arange(20, n - 20), self.n_spikes, replace=False)
            y[rows] += rng.choice([-1, 1], self.n_spikes) * rng.uniform(30, 200, self.n_spikes) * sigma
        if self.direction == 'cathodic':  # mirror about the start: reduction currents on a downward sweep
            return 2 * self.e_start - e, -y, sigma
        return e, y, sigma

    def truth(self) -> list[float]:
        """The generating model's two-line onsets (real potentials), in sweep order."""
        onsets = [f.onset_v for f in self.features]
        return [2 * self.e_start - v for v in onsets] if self.direction == 'cathodic' else onsets

    def heights_ma(self) -> list[float]:
        """Each feature's height above its own background at the end of its straight part (plateau height, or
        current at the end of the sweep, or just before the next feature's onset)."""
        heights = []
        for k, f in enumerate(self.features):
            end = self.features[k + 1].onset_v if k + 1 < len(self.features) else self.e_end
            if f.kind == 'levelled':
                heights.append(f.slope_ma_v * f.length_v)
            else:
                heights.append(float(f.current(np.array([end]))[0]))
        return heights

    def significance(self) -> list[float]:
        _, _, sigma = self.sweep()
        return [h / sigma if sigma > 0 else math.inf for h in self.heights_ma()]


def generate() -> list[Case]:
    """The family: weak-before-strong (10x to 1000x), rounded knees (10 to 150 mV), Tafel rises with an ohmic
    limit, capacitive backgrounds with slope at 10 uV/s to 1 mV/s, 0.1 to 1 % noise, spikes, cathodic mirrors."""
    cases = []
    seed = 0
    for ratio in (10, 30, 100, 300, 1000):
        for noise, of in ((0.001, 'max'), (0.01, 'max'), (0.01, 'first'), (0.05, 'first')):
            seed += 1
            strong = 5e-3
            weak = Feature('levelled', 2.93, strong / ratio, 0.01, 0.25)
            cases.append(
                Case(
                    f'weak-before-strong {ratio}x, noise {noise:.1%} of the {"weak rise" if of == "first" else "peak"}',
                    2.4,
                    4.6,
                    (weak, Feature('knee', 4.07, strong, 0.015)),
                    noise_fraction=noise,
                    noise_of=of,
                    capacitance_f=2e-4,
                    leak_ma_v=strong / ratio / 50,
                    seed=seed,
                )
            )
    for ratio in (10, 100):
        seed += 1
        strong = 6e-3
        cases.append(
            Case(
                f'weak rise continuing into a strong one {ratio}x',
                2.6,
                3.9,
                (Feature('knee', 3.02, strong / ratio, 0.01), Feature('knee', 3.32, strong, 0.01)),
                noise_fraction=0.01,
                noise_of='first',
                capacitance_f=2e-4,
                leak_ma_v=strong / ratio / 50,
                seed=seed,
            )
        )
    for width in (0.01, 0.03, 0.06, 0.1, 0.15):
        for noise in (0.001, 0.01):
            seed += 1
            cases.append(
                Case(
                    f'knee {width * 1000:.0f} mV, noise {noise:.1%}',
                    2.5,
                    3.45 + max(1.0, 7 * width),
                    (Feature('knee', 3.45, 2e-3, width),),
                    noise_fraction=noise,
                    seed=seed,
                )
            )
    for b, end in ((0.025, 0.5), (0.025, 1.0), (0.05, 1.0)):
        for noise in (0.001, 0.01):
            seed += 1
            cases.append(
                Case(
                    f'Tafel b {b * 1000:.0f} mV + ohmic, scan to onset + {end} V, noise {noise:.1%}',
                    2.6,
                    3.45 + end,
                    (Feature('tafel', 3.45, 4e-3, b),),
                    noise_fraction=noise,
                    seed=seed,
                )
            )
    for rate in (0.01, 0.1, 1.0):
        seed += 1
        cases.append(
            Case(
                f'capacitive background at {rate * 1000:g} uV/s, leak slope',
                1.5,
                4.0,
                (Feature('knee', 2.04, 3e-3, 0.01),),
                scan_rate_mv_s=rate,
                capacitance_f=5e-3,
                leak_ma_v=5e-4,
                step_v=0.0005 if rate == 0.01 else 0.002,
                seed=seed,
            )
        )
    for spikes in (5, 20):
        seed += 1
        cases.append(
            Case(
                f'{spikes} spikes',
                1.5,
                4.0,
                (Feature('knee', 2.5, 2e-3, 0.02),),
                n_spikes=spikes,
                seed=seed,
            )
        )
    seed += 1
    cases.append(
        Case(
            'cathodic mirror (3.0 -> 0.5 V), weak before strong 50x',
            3.0,
            5.5,
            (Feature('levelled', 3.6, 1e-4, 0.01, 0.3), Feature('knee', 4.5, 5e-3, 0.02)),
            noise_of='first',
            noise_fraction=0.01,
            direction='cathodic',
            seed=seed,
        )
    )
    return cases
