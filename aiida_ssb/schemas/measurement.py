"""The conditions of a measurement, and a manifest's measurement entry."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from aiida_ssb.schemas.base import SsbModel
from aiida_ssb.schemas.common import IsoDate, SampleId

__all__ = ['TECHNIQUE_ALIASES', 'MeasurementConditions', 'MeasurementEntry', 'resolve_technique']

#: what a manifest may call a technique -> (expected measurement kind, technique code or None to detect)
TECHNIQUE_ALIASES: dict[str, tuple[str, str | None]] = {
    'impedance': ('eis', None),
    'eis': ('eis', None),
    'peis': ('eis', 'peis'),
    'geis': ('eis', 'geis'),
    'voltammetry': ('voltammetry', None),
    'cyclic_voltammetry': ('voltammetry', 'cv'),
    'cv': ('voltammetry', 'cv'),
    'cva': ('voltammetry', 'cva'),
    'linear_sweep_voltammetry': ('voltammetry', 'lsv'),
    'lsv': ('voltammetry', 'lsv'),
    'galvanostatic_cycling': ('cycling', None),
    'cycling': ('cycling', None),
    'gcpl': ('cycling', 'gcpl'),
    'mb': ('cycling', 'mb'),
    'symmetric_cycling': ('cycling', None),
    'critical_current_density': ('cycling', None),
    'chronopotentiometry': ('cycling', 'cp'),
    'cp': ('cycling', 'cp'),
    'chronoamperometry': ('cycling', 'ca'),
    'ca': ('cycling', 'ca'),
    'ocv': ('cycling', 'ocv'),
    'thermal_analysis': ('thermal', None),
    'dsc': ('thermal', 'dsc'),
    'tga': ('thermal', 'tga'),
    'sta': ('thermal', 'sta'),
    'diffraction': ('diffraction', None),
    'xrd': ('diffraction', 'xrd'),
}


def resolve_technique(value: str | None) -> tuple[str | None, str | None]:
    """(expected kind, technique code) of a manifest's technique name; (None, None) when not given."""
    if value is None:
        return None, None
    key = value.strip().lower().replace('-', '_').replace(' ', '_')
    if key not in TECHNIQUE_ALIASES:
        raise ValueError(f'unknown technique {value!r}; known: {", ".join(sorted(TECHNIQUE_ALIASES))}')
    return TECHNIQUE_ALIASES[key]


class MeasurementConditions(SsbModel):
    """The conditions under which a record was taken. Unknown conditions are absent."""

    temperature_c: float | None = Field(None, ge=-273.15)
    stack_pressure_mpa: float | None = Field(None, ge=0)
    stack_pressure_bound: Literal['exact', 'upper', 'approximate'] | None = None
    atmosphere: str | None = None
    cycle_index: int | None = Field(None, ge=0, description='state label: the cycle after which it was measured')
    upper_cutoff_v: float | None = None
    lower_cutoff_v: float | None = None
    time_since_assembly_h: float | None = Field(None, ge=0)
    c_rate: float | None = Field(None, gt=0)
    scan_rate_mv_s: float | None = Field(None, gt=0)
    state: str | None = Field(None, description='free state label, e.g. "after formation", "heating"')
    branch: Literal['heating', 'cooling'] | None = None
    instrument: str | None = None
    date: IsoDate | None = None
    operator: str | None = None
    notes: str | None = None


class MeasurementEntry(MeasurementConditions):
    """One instrument file of a manifest: what it was measured on, how to read it, under which conditions."""

    file: str = Field(min_length=1)
    cell: SampleId | None = None
    material: SampleId | None = None
    technique: str | None = None
    format: str | None = None
    column_map: dict[str, Any] | None = None
    allow_truncated: bool | None = Field(
        None,
        description='accept a file whose last line was cut while it was written: that line is dropped and the '
        'measurement records it (truncated_last_line, and a flag)',
    )
    label: str | None = None

    @field_validator('technique')
    @classmethod
    def _known_technique(cls, value: str | None) -> str | None:
        resolve_technique(value)
        return value

    @model_validator(mode='after')
    def _one_target(self) -> MeasurementEntry:
        if (self.cell is None) == (self.material is None):
            raise ValueError('give exactly one of cell or material (what was measured)')
        return self

    @property
    def target(self) -> str:
        """The sample id of what was measured (the cell or the material: exactly one is given)."""
        target = self.cell or self.material
        if target is None:  # excluded by validation
            raise ValueError('a measurement entry names neither a cell nor a material')
        return target

    @model_validator(mode='before')
    @classmethod
    def _pressure_bound(cls, data: Any) -> Any:
        """``stack_pressure: '< 0.2 MPa'`` -> an upper bound (as for cells)."""
        if isinstance(data, dict):
            for key in ('stack_pressure', 'stack_pressure_mpa'):
                value = data.get(key)
                if isinstance(value, str) and value.strip()[:1] in '<≤~':
                    data = dict(data)
                    data['stack_pressure_bound'] = 'approximate' if value.strip()[0] == '~' else 'upper'
                    data[key] = value.strip()[1:].lstrip('=').strip()
        return data

    def conditions(self) -> MeasurementConditions:
        fields = MeasurementConditions.model_fields
        return MeasurementConditions.model_validate({k: v for k, v in self.model_dump().items() if k in fields})
