"""The resistances of a cell's spectrum by role: electrolyte, interfaces, interphases, with their intervals.

The analysis ``cell_impedance`` reads the circuit fit of a spectrum of a symmetric, half, full or
three-electrode cell (not a conductivity measurement): for each role present (``electrolyte``, ``bulk``,
``grain_boundary``, ``interface``, ``cathode_interphase``, ``charge_transfer``) the resistance ``R`` (ohm), its
standard error from the fit's covariance, and, with the electrode area ``A``, the area-specific resistance
``R A`` (ohm cm2; the area's stated uncertainty added in quadrature). The sum of every resistor is the total.
With the electrolyte thickness ``L``, the electrolyte's conductivity ``sigma = L / (R_e A)`` follows from the
electrolyte resistance ``R_e`` (the series resistance, plus any electrolyte arcs), as seed 000 reads its
1.2 mS/cm from ``R0``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from pydantic import Field
from scipy.stats import norm

from aiida_ssb.analysis.conductivity import resistance_of_fit
from aiida_ssb.analysis.settings import Settings
from aiida_ssb.exceptions import MissingInputError

__all__ = ['CellImpedanceResult', 'CellImpedanceSettings', 'cell_resistances']

ROLES = ('electrolyte', 'bulk', 'grain_boundary', 'interface', 'cathode_interphase', 'charge_transfer')


class CellImpedanceSettings(Settings):
    """Settings of the analysis ``cell_impedance`` (:func:`cell_resistances`)."""

    roles: tuple[str, ...] = Field(ROLES, description='the roles whose resistances are reported (those present)')
    electrolyte: str = Field(
        'electrolyte+bulk+grain_boundary',
        description='the resistance of the electrolyte, for its conductivity (roles or elements joined by +)',
    )
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description='level of the reported intervals')


@dataclasses.dataclass
class CellImpedanceResult:
    """Resistances by role with standard errors; area-specific ones and the electrolyte conductivity when known."""

    values: dict[str, dict[str, Any]]
    total_ohm: float
    total_stderr_ohm: float | None
    area_cm2: float | None
    area_rel: float
    electrolyte_conductivity: dict[str, Any] | None
    parameters: dict[str, Any]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        z = float(norm.ppf(0.5 + self.confidence / 2.0))
        out: dict[str, Any] = {'method': 'cell_impedance', 'parameters': dict(self.parameters)}
        entries = dict(self.values)
        entries['total'] = {'resistance_ohm': self.total_ohm, 'stderr_ohm': self.total_stderr_ohm, 'elements': 'all'}
        for role, entry in entries.items():
            r, se = entry['resistance_ohm'], entry['stderr_ohm']
            out[f'{role}_resistance_ohm'] = r
            out[f'{role}_elements'] = entry['elements']
            if se is not None:
                out[f'{role}_resistance_stderr_ohm'] = se
            if self.area_cm2 is not None:
                asr = r * self.area_cm2
                out[f'{role}_resistance_ohm_cm2'] = asr
                if se is not None:
                    rel = math.sqrt((se / r) ** 2 + self.area_rel**2) if r > 0 else None
                    if rel is not None:
                        out[f'{role}_resistance_stderr_ohm_cm2'] = asr * rel
                        out[f'{role}_resistance_low_ohm_cm2'] = asr * math.exp(-z * rel)
                        out[f'{role}_resistance_high_ohm_cm2'] = asr * math.exp(z * rel)
        out['roles_reported'] = sorted(self.values)
        out['interval_confidence'] = self.confidence
        if self.area_cm2 is not None:
            out['area_cm2'] = self.area_cm2
        if self.electrolyte_conductivity:
            out.update(self.electrolyte_conductivity)
        return out


def _present(fit: Mapping[str, Any], which: str) -> tuple[float, str, float | None] | None:
    try:
        return resistance_of_fit(fit, which)
    except MissingInputError:
        return None


def cell_resistances(
    fit: Mapping[str, Any],
    *,
    area_cm2: float | None = None,
    area_stderr_cm2: float | None = None,
    thickness_cm: float | None = None,
    thickness_stderr_cm: float | None = None,
    settings: CellImpedanceSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> CellImpedanceResult:
    """Resistances by role of a fitted cell spectrum (see the module docstring).

    :param fit: the circuit fit as a summary (``SpectrumFit.to_dict()``), with roles.
    :param area_cm2: the electrode area, for the area-specific resistances.
    :param thickness_cm: the electrolyte thickness, for the electrolyte's conductivity.
    """
    s = CellImpedanceSettings.resolve(settings, **overrides)
    values = {}
    for role in s.roles:
        found = _present(fit, role)
        if found is not None:
            values[role] = {'resistance_ohm': found[0], 'elements': found[1], 'stderr_ohm': found[2]}
    if not values:
        raise MissingInputError(
            f'the fit {fit.get("circuit")!r} has no resistance with a role among {", ".join(s.roles)}'
        )
    total = resistance_of_fit(fit, 'total')
    area_rel = float(area_stderr_cm2) / area_cm2 if area_cm2 and area_stderr_cm2 else 0.0
    electrolyte: dict[str, Any] | None = None
    parts = [p for p in s.electrolyte.split('+') if _present(fit, p.strip()) is not None]
    if thickness_cm and area_cm2 and parts:
        r_e, names, se = resistance_of_fit(fit, '+'.join(parts))
        sigma = thickness_cm / (r_e * area_cm2)
        electrolyte = {
            'electrolyte_conductivity_s_cm': sigma,
            'electrolyte_conductivity_elements': names,
            'thickness_cm': thickness_cm,
        }
        if se is not None:
            rel = [se / r_e, area_rel]
            if thickness_stderr_cm:
                rel.append(float(thickness_stderr_cm) / thickness_cm)
            electrolyte['electrolyte_conductivity_stderr_s_cm'] = sigma * math.sqrt(sum(v * v for v in rel))
    return CellImpedanceResult(
        values=values,
        total_ohm=total[0],
        total_stderr_ohm=total[2],
        area_cm2=area_cm2,
        area_rel=area_rel,
        electrolyte_conductivity=electrolyte,
        parameters=s.parameters(),
        confidence=s.confidence,
    )
