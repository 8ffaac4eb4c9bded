"""Parameter schemas of the recorded lab steps, one per step kind.

Every field is optional unless the step makes no sense without it: a lab that did not record a
parameter leaves it absent (never 0). ``reference`` cites where the parameters are defined ("as
reported elsewhere"); ``notes`` keeps free text such as "a few minutes".
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field, model_validator

from aiida_ssb.schemas.base import SsbModel
from aiida_ssb.schemas.common import Basis, Fraction, IsoDate, Reference, SampleId, split_fraction_basis
from aiida_ssb.units import UnitError, parse_quantity, to_unit

__all__ = [
    'PROCESS_KINDS',
    'BallMilling',
    'HeatSegment',
    'HeatTreatment',
    'InputAmount',
    'Mixing',
    'Pressing',
    'ProcessParameters',
    'SlurryCasting',
    'SolutionImpregnation',
    'SolutionSynthesis',
    'check_input_fractions',
    'composition_inputs',
    'normalise_inputs',
]


class InputAmount(SsbModel):
    """How much of one input material a step consumed. ``amount`` may be written with any unit of mass,
    amount of substance or volume (``amount: 2 mol``, ``amount: 533.6 mg``)."""

    material: SampleId
    mass_mg: float | None = Field(None, gt=0)
    amount_mol: float | None = Field(None, gt=0)
    volume_ml: float | None = Field(None, gt=0)
    fraction: Fraction | None = None
    parts: float | None = Field(None, gt=0, description='relative amount, e.g. 70 and 5 for a 70:5 ratio (needs basis)')
    basis: Basis | None = None
    role: str | None = None
    notes: str | None = None

    @model_validator(mode='before')
    @classmethod
    def _amount(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = split_fraction_basis(data)
        if 'amount' in data:
            data = dict(data)
            value = data.pop('amount')
            for field, unit in (('mass_mg', 'mg'), ('amount_mol', 'mol'), ('volume_ml', 'mL')):
                try:
                    number = to_unit(value, unit)
                except UnitError:
                    continue
                if field in data:
                    raise ValueError(f'give either amount or {field}, not both')
                data[field] = number
                break
            else:
                try:
                    parse_quantity(value)
                except UnitError as exc:
                    raise ValueError(f'amount: {exc}') from None
                raise ValueError(f'amount: {value!r} is not a mass, an amount of substance (mol) or a volume')
        return data

    @model_validator(mode='after')
    def _basis_needs_fraction(self) -> InputAmount:
        if (self.fraction is not None or self.parts is not None) and self.basis is None:
            raise ValueError('a fraction needs its basis: write e.g. "70 wt%" or add basis: wt')
        return self


#: input roles that do not end up in the product: a solvent leaves with the drying, a reagent is removed
#: (e.g. LiOH taken out by centrifugation), a substrate carries the product (a casting foil)
NON_COMPOSITION_ROLES = ('solvent', 'reagent', 'substrate')


def composition_inputs(inputs: list[InputAmount]) -> list[InputAmount]:
    """The inputs that make up the product (inputs with a role of :data:`NON_COMPOSITION_ROLES` do not)."""
    return [item for item in inputs if item.role not in NON_COMPOSITION_ROLES]


def normalise_inputs(inputs: list[InputAmount]) -> list[InputAmount]:
    """Turn ``parts`` (a 70:5 ratio) into fractions when every composition input gives parts."""
    members = composition_inputs(inputs)
    parts = {id(item): item.parts for item in members if item.parts is not None}
    if members and len(parts) == len(members):
        bases = {item.basis for item in members}
        if len(bases) > 1:
            raise ValueError(f'input parts mix bases: {", ".join(sorted(b or "?" for b in bases))}')
        total = math.fsum(parts.values())
        for item in members:
            share = parts[id(item)] / total
            if item.fraction is not None and not math.isclose(item.fraction, share, rel_tol=1e-6):
                raise ValueError(
                    f'{item.material}: fraction {item.fraction:g} contradicts parts {parts[id(item)]:g} of {total:g}'
                )
        converted = {id(item): item.model_copy(update={'fraction': parts[id(item)] / total}) for item in members}
        return [converted.get(id(item), item) for item in inputs]
    if any(item.parts is not None for item in members):
        missing = ', '.join(item.material for item in members if item.parts is None)
        raise ValueError(f'parts are given for some inputs but not for {missing}')
    return inputs


def check_input_fractions(inputs: list[InputAmount], tolerance: float = 0.005) -> None:
    """Either no input carries a fraction, or all do and they add up to 100 % on one basis (solvents aside)."""
    inputs = composition_inputs(inputs)
    with_fraction = [item for item in inputs if item.fraction is not None]
    if not with_fraction:
        return
    if len(with_fraction) != len(inputs):
        missing = ', '.join(item.material for item in inputs if item.fraction is None)
        raise ValueError(f'fractions are given for some inputs but not for {missing}')
    bases = {item.basis for item in with_fraction}
    if len(bases) > 1:
        raise ValueError(f'input fractions mix bases: {", ".join(sorted(b or "?" for b in bases))}')
    total = math.fsum(item.fraction for item in with_fraction if item.fraction is not None)
    if abs(total - 1.0) > tolerance:
        basis = bases.pop()
        raise ValueError(f'input fractions add up to {total * 100:.4g} {basis}%, not 100 {basis}%')


class HeatSegment(SsbModel):
    """One segment of a temperature programme (ramp to ``temperature_c``, hold ``duration_min``)."""

    temperature_c: float | None = Field(None, ge=-273.15)
    duration_min: float | None = Field(None, ge=0)
    heating_rate_c_min: float | None = Field(None, gt=0)
    cooling_rate_c_min: float | None = Field(None, gt=0)
    atmosphere: str | None = None
    pressure_mbar: float | None = Field(None, ge=0)
    description: str | None = None


class ProcessParameters(SsbModel):
    """Fields every recorded step may carry."""

    kind: ClassVar[str] = ''
    description_text: ClassVar[str] = ''

    reference: Reference | None = None
    notes: str | None = None
    date: IsoDate | None = None
    operator: str | None = None
    atmosphere: str | None = None
    equipment: str | None = None


class BallMilling(ProcessParameters):
    """High-energy or planetary ball milling. ``duration_min`` is the total milling time; with
    ``repetitions`` x ``cycle_duration_min`` (e.g. 3 x 15 min) it is computed, and checked when both
    are given."""

    kind: ClassVar[str] = 'ball_milling'
    description_text: ClassVar[str] = 'ball milling (mechanochemical synthesis or particle-size reduction)'

    mill: str | None = None
    mill_type: Literal['shaker', 'planetary', 'mixer', 'attritor', 'roller', 'other'] | None = None
    jar_material: str | None = None
    jar_volume_ml: float | None = Field(None, gt=0)
    ball_material: str | None = None
    ball_diameter_mm: float | None = Field(None, gt=0)
    ball_count: int | None = Field(None, gt=0)
    ball_mass_g: float | None = Field(None, gt=0)
    ball_to_powder_ratio: float | None = Field(
        None,
        gt=0,
        validation_alias=AliasChoices('ball_to_powder_ratio', 'bpr'),
        description='ball mass / powder mass (a "1:30 sample-to-ball ratio" is 30)',
    )
    powder_mass_mg: float | None = Field(None, gt=0)
    frequency_hz: float | None = Field(None, gt=0)
    rotation_rpm: float | None = Field(None, gt=0)
    duration_min: float | None = Field(None, gt=0)
    cycle_duration_min: float | None = Field(None, gt=0)
    repetitions: int | None = Field(None, gt=0)
    pause_min: float | None = Field(None, ge=0)
    medium: str | None = Field(None, description='milling medium when not dry, e.g. water')
    temperature_c: float | None = None

    @model_validator(mode='after')
    def _total_duration(self) -> BallMilling:
        if self.cycle_duration_min is not None and self.repetitions is not None:
            total = self.cycle_duration_min * self.repetitions
            if self.duration_min is None:
                self.duration_min = total
            elif abs(self.duration_min - total) > 1e-6 * max(total, 1.0):
                raise ValueError(
                    f'duration_min {self.duration_min:g} is not repetitions x cycle_duration_min '
                    f'= {self.repetitions} x {self.cycle_duration_min:g} = {total:g}'
                )
        return self


class HeatTreatment(ProcessParameters):
    """Drying, annealing, sintering, calcination: a temperature programme. For a multi-segment programme
    give ``segments``; ``temperature_c`` is then the highest segment temperature and ``duration_min`` the
    total hold time."""

    kind: ClassVar[str] = 'heat_treatment'
    description_text: ClassVar[str] = 'heat treatment (drying, annealing, sintering, calcination)'

    purpose: Literal['drying', 'annealing', 'sintering', 'calcination', 'crystallisation', 'other'] | None = None
    temperature_c: float | None = Field(None, ge=-273.15)
    duration_min: float | None = Field(None, ge=0)
    heating_rate_c_min: float | None = Field(None, gt=0)
    cooling_rate_c_min: float | None = Field(None, gt=0)
    pressure_mbar: float | None = Field(None, ge=0)
    gas_flow_ml_min: float | None = Field(None, gt=0)
    segments: list[HeatSegment] | None = None

    @model_validator(mode='after')
    def _from_segments(self) -> HeatTreatment:
        if self.segments:
            temperatures = [s.temperature_c for s in self.segments if s.temperature_c is not None]
            if self.temperature_c is None and temperatures:
                self.temperature_c = max(temperatures)
            durations = [s.duration_min for s in self.segments if s.duration_min is not None]
            if self.duration_min is None and durations and len(durations) == len(self.segments):
                self.duration_min = math.fsum(durations)
        return self


class SolutionImpregnation(ProcessParameters):
    """Solution impregnation / infiltration: a dissolved material (the solute input) enters a host
    (powder or porous electrode), then the solvent is removed by the ``drying`` programme."""

    kind: ClassVar[str] = 'solution_impregnation'
    description_text: ClassVar[str] = 'solution impregnation or infiltration of a host by a dissolved material'

    method: Literal['dip', 'ultrasonication', 'stirring', 'drop_casting', 'vacuum_infiltration', 'other'] | None = None
    solvent: str | None = None
    concentration_mg_ml: float | None = Field(None, gt=0)
    solution_volume_ml: float | None = Field(None, gt=0)
    dip_time_min: float | None = Field(None, gt=0)
    ultrasonication_time_min: float | None = Field(None, gt=0)
    infiltration_steps: int | None = Field(None, gt=0)
    temperature_c: float | None = None
    drying: list[HeatSegment] | None = None
    uptake_wt_percent: float | None = Field(
        None, ge=0, le=100, description='measured mass uptake of the infiltrant, relative to the dry host'
    )


class SolutionSynthesis(ProcessParameters):
    """Synthesis or crystallisation from solution (dissolve, react, remove the solvent, dry)."""

    kind: ClassVar[str] = 'solution_synthesis'
    description_text: ClassVar[str] = 'synthesis or crystallisation from solution'

    solvent: str | None = None
    solvent_volume_ml: float | None = Field(None, gt=0)
    concentration_mg_ml: float | None = Field(None, gt=0)
    temperature_c: float | None = None
    duration_min: float | None = Field(None, gt=0)
    stirring_rpm: float | None = Field(None, gt=0)
    solvent_removal: str | None = None
    drying: list[HeatSegment] | None = None
    batch_mass_mg: float | None = Field(None, gt=0)
    yield_percent: float | None = Field(None, ge=0, le=100)


class Mixing(ProcessParameters):
    """Mixing of powders (mortar and pestle, low-energy milling, vortex...). The composition is the set of
    input fractions."""

    kind: ClassVar[str] = 'mixing'
    description_text: ClassVar[str] = 'mixing of materials into a composite'

    method: Literal['mortar', 'ball_mill', 'vortex', 'planetary_mixer', 'stirring', 'other'] | None = None
    duration_min: float | None = Field(None, gt=0)
    rotation_rpm: float | None = Field(None, gt=0)


class SlurryCasting(ProcessParameters):
    """Slurry casting of an electrode sheet: inputs are active material, binder, carbon (fractions are the
    dry composition), solvent and the substrate (current collector)."""

    kind: ClassVar[str] = 'slurry_casting'
    description_text: ClassVar[str] = 'slurry casting of an electrode sheet'

    solvent: str | None = None
    solids_content_percent: float | None = Field(None, gt=0, le=100)
    casting_method: Literal['doctor_blade', 'bar_coater', 'slot_die', 'other'] | None = None
    blade_gap_um: float | None = Field(None, gt=0)
    wet_thickness_um: float | None = Field(None, gt=0)
    dry_thickness_um: float | None = Field(None, gt=0)
    drying: list[HeatSegment] | None = None
    calendering_pressure_mpa: float | None = Field(None, gt=0)
    calendering_gap_um: float | None = Field(None, gt=0)
    porosity_percent: float | None = Field(None, ge=0, le=100)
    punch_diameter_mm: float | None = Field(None, gt=0)
    mass_loading_mg_cm2: float | None = Field(None, gt=0, description='measured mass loading of the sheet')
    loading_basis: Literal['active', 'composite'] | None = None

    @model_validator(mode='after')
    def _loading_basis(self) -> SlurryCasting:
        if self.mass_loading_mg_cm2 is not None and self.loading_basis is None:
            raise ValueError('mass_loading_mg_cm2 needs its loading_basis: active or composite')
        return self


class Pressing(ProcessParameters):
    """Uniaxial pressing of a powder (or a layer stack) into a pellet."""

    kind: ClassVar[str] = 'pressing'
    description_text: ClassVar[str] = 'uniaxial pressing into a pellet'

    die_diameter_mm: float | None = Field(None, gt=0)
    pressure_mpa: float | None = Field(None, gt=0)
    force_kn: float | None = Field(None, gt=0)
    dwell_min: float | None = Field(None, ge=0)
    temperature_c: float | None = None
    press: str | None = None


#: process kind -> parameter schema
PROCESS_KINDS: dict[str, type[ProcessParameters]] = {
    cls.kind: cls
    for cls in (BallMilling, SolutionImpregnation, SolutionSynthesis, HeatTreatment, Mixing, SlurryCasting, Pressing)
}

#: spellings a manifest may use for a kind
PROCESS_KIND_ALIASES: dict[str, str] = {
    'milling': 'ball_milling',
    'infiltration': 'solution_impregnation',
    'impregnation': 'solution_impregnation',
    'crystallisation': 'solution_synthesis',
    'crystallization': 'solution_synthesis',
    'drying': 'heat_treatment',
    'annealing': 'heat_treatment',
    'sintering': 'heat_treatment',
    'calcination': 'heat_treatment',
    'casting': 'slurry_casting',
}
