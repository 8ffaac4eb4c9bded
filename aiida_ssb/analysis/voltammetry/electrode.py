"""Validity rules of the composite working electrode of a stability test (thesis chapter 4, Asakura et al.
2019): carbon volume fraction, carbon surface area and scan rate."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from aiida_ssb.analysis.voltammetry.common import Flag, VoltammetryError, clean, positive_or_none

__all__ = [
    'CARBON_SURFACE_AREA_MIN_CM2',
    'CARBON_VOLUME_FRACTION_RANGE',
    'SCAN_RATE_MAX_MV_S',
    'WorkingElectrode',
    'carbon_surface_area_cm2',
    'carbon_volume_fraction',
    'check_working_electrode',
]

#: Thesis chapter 4 validity limits (Asakura et al. 2019).
CARBON_VOLUME_FRACTION_RANGE = (0.2, 0.8)
CARBON_SURFACE_AREA_MIN_CM2 = 200.0
SCAN_RATE_MAX_MV_S = 0.020  # 20 uV/s


@dataclasses.dataclass(frozen=True)
class WorkingElectrode:
    """The composite working electrode of a stability test (thesis chapter 4).

    Either give the derived descriptors directly (``carbon_volume_fraction``,
    ``carbon_surface_area_cm2``) or the quantities they are computed from.

    :param carbon_mass_fraction: carbon weight fraction of the composite (0.25 for 75:25).
    :param carbon_density_g_cm3: carbon density (Super P bulk 0.16; state the kind in ``carbon_density_kind``).
    :param electrolyte_density_g_cm3: electrolyte density (LiBH4 0.666).
    :param composite_mass_mg: mass of composite in the cell (5 mg in the thesis).
    :param carbon_bet_m2_g: BET specific surface area of the carbon (Super P 58).
    :param carbon_name: e.g. ``'Super P'``.
    :param carbon_density_kind: ``'bulk'``, ``'tap'``, ``'skeletal'``...
    """

    carbon_mass_fraction: float | None = None
    carbon_density_g_cm3: float | None = None
    electrolyte_density_g_cm3: float | None = None
    composite_mass_mg: float | None = None
    carbon_bet_m2_g: float | None = None
    carbon_volume_fraction: float | None = None
    carbon_surface_area_cm2: float | None = None
    carbon_name: str | None = None
    carbon_density_kind: str | None = None

    def volume_fraction(self) -> float | None:
        """The carbon volume fraction (given, or computed), None when unknown."""
        if self.carbon_volume_fraction is not None:
            return float(self.carbon_volume_fraction)
        w, rho_c, rho_e = self.carbon_mass_fraction, self.carbon_density_g_cm3, self.electrolyte_density_g_cm3
        if w is None or rho_c is None or rho_e is None:
            return None
        return carbon_volume_fraction(w, rho_c, rho_e)

    def surface_area_cm2(self) -> float | None:
        """The total carbon surface area in the composite (given, or computed), None when unknown."""
        if self.carbon_surface_area_cm2 is not None:
            return float(self.carbon_surface_area_cm2)
        w, mass, bet = self.carbon_mass_fraction, self.composite_mass_mg, self.carbon_bet_m2_g
        if w is None or mass is None or bet is None:
            return None
        return carbon_surface_area_cm2(mass, w, bet)

    def to_dict(self) -> dict[str, Any]:
        result = clean(dataclasses.asdict(self))
        result.update(
            clean(
                {'carbon_volume_fraction': self.volume_fraction(), 'carbon_surface_area_cm2': self.surface_area_cm2()}
            )
        )
        return result


def carbon_volume_fraction(
    carbon_mass_fraction: float, carbon_density_g_cm3: float, electrolyte_density_g_cm3: float
) -> float:
    """Volume fraction of carbon in an electrolyte/carbon composite, from weights and densities
    (thesis chapter 4): ``phi = (w_C/rho_C) / (w_C/rho_C + (1 - w_C)/rho_SE)``.

    25 wt % Super P (0.16 g/cm3) in LiBH4 (0.666 g/cm3) gives 0.58; 25 wt % MCMB (tap 1.3) gives 0.15."""
    w = float(carbon_mass_fraction)
    if not 0.0 <= w <= 1.0:
        raise VoltammetryError(f'carbon_mass_fraction: must lie within 0..1, got {w}')
    rho_c = _positive('carbon_density_g_cm3', carbon_density_g_cm3)
    rho_e = _positive('electrolyte_density_g_cm3', electrolyte_density_g_cm3)
    carbon = w / rho_c
    return carbon / (carbon + (1.0 - w) / rho_e)


def carbon_surface_area_cm2(composite_mass_mg: float, carbon_mass_fraction: float, carbon_bet_m2_g: float) -> float:
    """Total carbon surface area in the composite, cm2: ``m_composite * w_C * S_BET`` (thesis chapter 4).

    0.5 mg Super P (58 m2/g) gives 290 cm2 (the thesis rounds to 292 cm2)."""
    mass = _positive('composite_mass_mg', composite_mass_mg)
    w = float(carbon_mass_fraction)
    if not 0.0 <= w <= 1.0:
        raise VoltammetryError(f'carbon_mass_fraction: must lie within 0..1, got {w}')
    bet = float(carbon_bet_m2_g)
    if not bet >= 0:
        raise VoltammetryError(f'carbon_bet_m2_g: must be >= 0, got {bet}')
    return mass * 1e-3 * w * bet * 1e4


def _positive(name: str, value: float) -> float:
    number = positive_or_none(name, value)
    if number is None:
        raise VoltammetryError(f'{name}: a positive number is needed')
    return number


def check_working_electrode(
    electrode: WorkingElectrode | Mapping[str, Any] | None = None, *, scan_rate_mv_s: float | None = None
) -> list[Flag]:
    """Validity flags of a stability measurement (thesis chapter 4, Asakura et al. 2019).

    * ``carbon_volume_fraction``: 0.2 <= phi <= 0.8 (lower: too little electronic contact, the onset is
      overestimated, e.g. MCMB 0.15 gave 2.61 V for LiBH4; higher: too little electrolyte);
    * ``carbon_surface_area``: > 200 cm2 (stated for a 5 mg LiBH4/carbon composite);
    * ``scan_rate``: <= 20 uV/s (0.020 mV/s); faster scans raise the capacitive background and the onset
      (> 100 mV at 100 uV/s, > 500 mV at 500 uV/s for LiBH4/Super P).

    A rule whose inputs are unknown gives a flag with ``passed=None`` saying what is missing.
    """
    if electrode is None:
        electrode = WorkingElectrode()
    elif isinstance(electrode, Mapping):
        known = {field.name for field in dataclasses.fields(WorkingElectrode)}
        unknown = sorted(set(electrode) - known)
        if unknown:
            raise VoltammetryError(
                f'working_electrode: unknown key(s) {", ".join(unknown)}; known: {", ".join(sorted(known))}'
            )
        electrode = WorkingElectrode(**electrode)
    return [_volume_fraction_flag(electrode), _surface_area_flag(electrode), _scan_rate_flag(scan_rate_mv_s)]


def _volume_fraction_flag(electrode: WorkingElectrode) -> Flag:
    low, high = CARBON_VOLUME_FRACTION_RANGE
    rule, limit = 'carbon_volume_fraction', f'{low} <= carbon volume fraction <= {high}'
    phi = electrode.volume_fraction()
    if phi is None:
        return Flag(rule, None, None, limit, 'not evaluated: carbon mass fraction and densities not given')
    if phi == 0:
        reason = (
            'no carbon in the working electrode: the onset is overestimated (LiBH4: 3.10 V without carbon vs '
            '2.04 V with 25 wt % Super P, 10 uV/s, 60 C; thesis ch. 4)'
        )
        return Flag(rule, False, phi, limit, reason)
    if phi < low:
        reason = (
            f'carbon volume fraction {phi:.3f} < {low}: insufficient electronic contact, the onset is '
            'overestimated (thesis ch. 4: MCMB, 0.15, gave 2.61 V vs 2.04 V for LiBH4)'
        )
        return Flag(rule, False, phi, limit, reason)
    if phi > high:
        reason = (
            f'carbon volume fraction {phi:.3f} > {high}: too little electrolyte in the composite, smaller '
            'decomposition currents, the onset shifts up (thesis ch. 4)'
        )
        return Flag(rule, False, phi, limit, reason)
    return Flag(rule, True, phi, limit, f'carbon volume fraction {phi:.3f} within {low}-{high} (thesis ch. 4)')


def _surface_area_flag(electrode: WorkingElectrode) -> Flag:
    rule, limit = 'carbon_surface_area', f'carbon surface area > {CARBON_SURFACE_AREA_MIN_CM2:g} cm2'
    area = electrode.surface_area_cm2()
    if area is None:
        return Flag(rule, None, None, limit, 'not evaluated: composite mass, carbon fraction or BET area not given')
    passed = area > CARBON_SURFACE_AREA_MIN_CM2
    reason = (
        f'total carbon surface area {area:.0f} cm2 {">" if passed else "<="} {CARBON_SURFACE_AREA_MIN_CM2:g} cm2 '
        '(thesis ch. 4, stated for a 5 mg LiBH4/carbon composite)'
    )
    return Flag(rule, passed, area, limit, reason)


def _scan_rate_flag(scan_rate_mv_s: float | None) -> Flag:
    rule, limit = 'scan_rate', f'scan rate <= {SCAN_RATE_MAX_MV_S * 1000:g} uV/s'
    if scan_rate_mv_s is None:
        return Flag(rule, None, None, limit, 'not evaluated: scan rate not given and no time to estimate it')
    rate = float(scan_rate_mv_s)
    if rate <= SCAN_RATE_MAX_MV_S * (1 + 1e-6):
        reason = (
            f'scan rate {rate * 1000:.3g} uV/s: below 20 uV/s the capacitive background has a minor effect on '
            'the onset (thesis ch. 4)'
        )
        return Flag(rule, True, rate, limit, reason)
    reason = (
        f'scan rate {rate * 1000:.3g} uV/s > 20 uV/s: the capacitive background raises the onset '
        '(LiBH4/Super P: > 100 mV higher at 100 uV/s, > 500 mV at 500 uV/s)'
    )
    return Flag(rule, False, rate, limit, reason)
