"""Symmetric metal | electrolyte | metal cells: the stepped-current critical-current-density (CCD) test.

Polarisation of a healthy cell at areal current density j (A/cm2 inside the formulas):

``V_ion(j, t) = j R_bulk + j R_int(t) + 2 (2 R T / F) asinh(j / (2 j0))``

(bulk ohmic drop, a linear interphase resistance that may grow with the time since assembly, and the
Butler-Volmer charge-transfer overpotential of the two metal/electrolyte interfaces, exchange current
density ``j0 = R T / (F R_ct)``). Along each half cycle ``|V|`` rises by ``growth`` (2 %) as the stripped
electrode roughens. The sign of V follows the current.

Failure (dendrite growth):

* **sudden drop** (partial short, the "dendrite penetration" criterion): from a given point of the first
  half cycle of the failing step on, an electronic shunt carries part of the current and ``|V|`` falls to a
  fraction ``d(j)`` of ``V_ion`` (``d = R_sh / (R_sh + ASR)``); the shunt stays in the following steps;
* **zero volt** (full short, Sharafi's criterion): from a given point of a given half cycle on, the cell is
  a resistor ``r_short`` (ohm cm2): ``|V| = j r_short``, about 0 V.

Each half cycle passes the same areal capacity, so its duration is ``q / j``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from aiida_ssb.demo_data.electrode import GcplRecorder, GcplSequence

__all__ = ['CcdFailure', 'Polarisation', 'ccd_protocol']

GAS_CONSTANT = 8.314462618
FARADAY = 96485.33212


@dataclass(frozen=True)
class Polarisation:
    """Healthy-cell polarisation V_ion(j, t) of a symmetric cell."""

    bulk_ohm_cm2: float
    charge_transfer_ohm_cm2: float
    temperature_c: float
    interphase: Callable[[float], float] | None = None  # R_int(t_h) in ohm cm2

    def voltage_v(self, j_ma_cm2: float, time_h: float = 0.0) -> float:
        j = j_ma_cm2 / 1000.0
        thermal = GAS_CONSTANT * (self.temperature_c + 273.15) / FARADAY
        j0 = thermal / self.charge_transfer_ohm_cm2
        interphase = self.interphase(time_h) if self.interphase else 0.0
        return j * (self.bulk_ohm_cm2 + interphase) + 2.0 * 2.0 * thermal * math.asinh(j / (2.0 * j0))


@dataclass(frozen=True)
class CcdFailure:
    """Where and how the symmetric cell fails."""

    drop_step_ma_cm2: float
    drop_at: float
    shunt_fraction: Callable[[float], float]
    short_step_ma_cm2: float | None = None
    short_half: int = 1
    short_at: float = 0.5
    short_ohm_cm2: float = 1.0


def ccd_protocol(
    recorder: GcplRecorder,
    polarisation: Polarisation,
    *,
    area_cm2: float,
    steps_ma_cm2: Sequence[float],
    capacity_mah_cm2: float,
    points_per_half: int,
    failure: CcdFailure,
    start_time_h: float = 0.0,
    growth: float = 0.02,
    first_ns: int = 0,
) -> list[GcplSequence]:
    """Append the stepped-current test to ``recorder``; returns the GCPL sequences (for the settings block).

    The record ends with the half cycle in which the full short happens (the test is stopped there), or
    after the last step."""
    sequences: list[GcplSequence] = []
    shunted = False
    x = np.linspace(0.0, 1.0, points_per_half)
    for index, j in enumerate(steps_ma_cm2):
        current_ma = j * area_cm2
        duration_h = capacity_mah_cm2 / j
        ns = first_ns + index
        sequences.append(GcplSequence('cc', current_ma=current_ma, duration_h=duration_h, goto=ns, cycles=1))
        stop = False
        for half in (0, 1):
            sign = 1.0 if half == 0 else -1.0
            time_h = start_time_h + recorder.t_now_s / 3600.0 + x * duration_h
            v_ion = np.array([polarisation.voltage_v(j, t) for t in time_h]) * (1.0 + growth * x)
            fraction = np.ones_like(x)
            if math.isclose(j, failure.drop_step_ma_cm2) and half == 0:
                shunted = True
                fraction = np.where(x >= failure.drop_at, failure.shunt_fraction(j), 1.0)
                edge = int(np.searchsorted(x, failure.drop_at))
                if 0 < edge < x.size:  # the drop takes one sampling interval
                    fraction[edge] = 0.5 * (1.0 + failure.shunt_fraction(j))
            elif shunted:
                fraction = np.full_like(x, failure.shunt_fraction(j))
            magnitude = v_ion * fraction
            if (
                failure.short_step_ma_cm2 is not None
                and math.isclose(j, failure.short_step_ma_cm2)
                and half == failure.short_half
            ):
                shorted = x >= failure.short_at
                magnitude = np.where(shorted, j / 1000.0 * failure.short_ohm_cm2, magnitude)
                stop = True
            charge = x * capacity_mah_cm2 * area_cm2
            recorder.constant_current(charge, sign * magnitude, sign * current_ma, ns)
            if stop:
                break
        if stop:
            break
    return sequences
