"""Cells: the layer stack, its housing and pressures, and the values derived from them.

Derived values are computed here, never typed: electrode area from a diameter, active mass, mass
loading of active material, 1C current and current density, the areal capacity basis, densities and
relative densities where a theoretical density is known.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from aiida_ssb.schemas.base import SsbModel
from aiida_ssb.schemas.common import Fraction, IsoDate, Reference, SampleId, check_circuit_bounds
from aiida_ssb.schemas.uncertainty import split_stated_uncertainties

__all__ = ['CELL_FORMATS', 'LAYER_ROLES', 'CellSpec', 'Layer', 'MaterialFacts', 'PressingStep', 'derive_cell_values']

CellFormat = Literal['blocking_pellet', 'symmetric', 'half', 'full', 'three_electrode']

CELL_FORMATS: dict[str, str] = {
    'blocking_pellet': 'an electrolyte pellet between ion-blocking electrodes (conductivity)',
    'symmetric': 'the same metal on both sides of the electrolyte (plating/stripping, CCD)',
    'half': 'a working electrode against a metal or alloy counter electrode',
    'full': 'a positive and a negative electrode (e.g. cathode composite | SE | Na)',
    'three_electrode': 'a cell with a separate reference electrode',
}

LayerRole = Literal[
    'positive',
    'negative',
    'separator',
    'electrolyte',
    'working',
    'counter',
    'reference',
    'blocking_electrode',
    'current_collector',
    'interlayer',
]

LAYER_ROLES: dict[str, str] = {
    'positive': 'positive electrode (cathode composite)',
    'negative': 'negative electrode (metal foil, alloy, anode composite)',
    'separator': 'solid-electrolyte separator layer',
    'electrolyte': 'the electrolyte pellet of a blocking or symmetric cell',
    'working': 'working electrode (e.g. electrolyte/carbon composite in a stability cell)',
    'counter': 'counter electrode',
    'reference': 'reference electrode',
    'blocking_electrode': 'an ion-blocking electrode (In, Au, carbon layer)',
    'current_collector': 'current collector foil or disc',
    'interlayer': 'any other layer',
}


class Layer(SsbModel):
    """One layer of the stack, bottom (positive side) to top."""

    role: LayerRole
    material: SampleId
    mass_mg: float | None = Field(None, gt=0)
    diameter_mm: float | None = Field(None, gt=0)
    area_cm2: float | None = Field(None, gt=0)
    thickness_um: float | None = Field(None, gt=0)
    active_fraction: Fraction | None = Field(
        None, description='mass fraction of active material in this layer (else taken from the material composition)'
    )
    side: Literal['positive', 'negative'] | None = None
    notes: str | None = None
    # stated standard uncertainties of the geometry (``thickness: 500 um +- 10 um``), carried into conductivities
    thickness_uncertainty_um: float | None = Field(None, ge=0)
    diameter_uncertainty_mm: float | None = Field(None, ge=0)
    area_uncertainty_cm2: float | None = Field(None, ge=0)

    @model_validator(mode='before')
    @classmethod
    def _stated_uncertainties(cls, data: Any) -> Any:
        return split_stated_uncertainties(data, {'thickness': '_um', 'diameter': '_mm', 'area': '_cm2'})


class PressingStep(SsbModel):
    """A fabrication pressing step of the cell (pre-pressing a layer, co-pressing the stack)."""

    pressure_mpa: float = Field(gt=0)
    layers: list[str] | None = Field(None, description='roles or material ids pressed in this step (default: all)')
    dwell_min: float | None = Field(None, ge=0)
    temperature_c: float | None = None
    description: str | None = None


class CellSpec(SsbModel):
    """A cell as the lab built it."""

    sample_id: SampleId = Field(validation_alias=AliasChoices('sample_id', 'id'))
    format: CellFormat
    layers: list[Layer] = Field(min_length=1)
    name: str | None = None
    diameter_mm: float | None = Field(None, gt=0)
    area_cm2: float | None = Field(None, gt=0)
    diameter_uncertainty_mm: float | None = Field(None, ge=0, description='stated standard uncertainty')
    area_uncertainty_cm2: float | None = Field(None, ge=0, description='stated standard uncertainty')
    housing: str | None = None
    housing_type: Literal['swagelok', 'pressure_cell', 'coin_cell', 'peek_mould', 'pouch', 'other'] | None = None
    fabrication: list[PressingStep] | None = None
    stack_pressure_mpa: float | None = Field(None, ge=0)
    stack_pressure_bound: Literal['exact', 'upper', 'approximate'] | None = None
    stack_pressure_method: Literal['spring', 'torque', 'hydraulic', 'screw', 'none', 'other'] | None = None
    torque_n_m: float | None = Field(None, gt=0)
    one_c_ma_g: float | None = Field(
        None, gt=0, description='specific current of 1C per mass of active material (e.g. 130 mA/g for NVOPF)'
    )
    reference_electrode: str | None = None
    atmosphere: str | None = None
    date: IsoDate | None = None
    operator: str | None = None
    notes: str | None = None
    reference: Reference | None = None
    literature: bool = False
    analysis: dict[str, dict[str, Any]] | None = Field(
        None,
        description='analysis options chosen for this cell, by analysis (eis_fit, conductivity, arrhenius, '
        'interface_growth, onsets, stepwise_cv, cycling, ccd); command-line --set overrides them',
    )

    @field_validator('analysis')
    @classmethod
    def _analysis_sections(cls, value: dict | None) -> dict | None:
        """Each section checked against its analysis's settings type; sections named as the analyses (former
        names such as ``eis`` and ``growth`` are renamed)."""
        if value is None:
            return value
        from aiida_ssb.analysis.registry import validate_options

        check_circuit_bounds(value, where='analysis')
        return validate_options(value, where='analysis')

    @model_validator(mode='before')
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        """``fabrication_pressure: 250 MPa`` -> one co-pressing step; ``one_c: 130 mA/g`` -> one_c_ma_g;
        ``stack_pressure: '< 0.2 MPa'`` -> an upper bound."""
        if not isinstance(data, dict):
            return data
        data = split_stated_uncertainties(data, {'diameter': '_mm', 'area': '_cm2'})
        if 'fabrication_pressure' in data:
            if 'fabrication' in data:
                raise ValueError('give either fabrication_pressure or fabrication, not both')
            data['fabrication'] = [{'pressure': data.pop('fabrication_pressure'), 'description': 'co-pressing'}]
        for key in ('stack_pressure', 'stack_pressure_mpa'):
            value = data.get(key)
            if isinstance(value, str) and value.strip()[:1] in '<≤~':
                bound = 'approximate' if value.strip()[0] == '~' else 'upper'
                if data.get('stack_pressure_bound') not in (None, bound):
                    raise ValueError(f'stack pressure {value!r} contradicts stack_pressure_bound')
                data['stack_pressure_bound'] = bound
                data[key] = value.strip()[1:].lstrip('=').strip()
        return data

    @model_validator(mode='after')
    def _check(self) -> CellSpec:
        roles = [layer.role for layer in self.layers]
        if self.format in ('half', 'full') and 'positive' not in roles and 'working' not in roles:
            raise ValueError(f'a {self.format} cell needs a positive (or working) layer')
        if self.format == 'full' and 'negative' not in roles:
            raise ValueError('a full cell needs a negative layer')
        if self.format in ('blocking_pellet', 'symmetric') and not {'electrolyte', 'separator'} & set(roles):
            raise ValueError(f'a {self.format} cell needs an electrolyte (or separator) layer')
        if self.diameter_mm is not None and self.area_cm2 is not None:
            from_diameter = disc_area_cm2(self.diameter_mm)
            if abs(from_diameter - self.area_cm2) > 0.01 * self.area_cm2:
                raise ValueError(
                    f'area_cm2 {self.area_cm2:g} contradicts diameter_mm {self.diameter_mm:g} (= {from_diameter:.4g} cm2)'
                )
        return self

    def material_ids(self) -> list[str]:
        seen: list[str] = []
        for layer in self.layers:
            if layer.material not in seen:
                seen.append(layer.material)
        return seen


def disc_area_cm2(diameter_mm: float) -> float:
    """Area of a disc of ``diameter_mm`` in cm2."""
    return math.pi * (diameter_mm / 20.0) ** 2


@dataclass(frozen=True)
class MaterialFacts:
    """What the cell derivations need to know of a layer's material."""

    role: str | None = None
    theoretical_density_g_cm3: float | None = None
    theoretical_capacity_mah_g: float | None = None
    active_fraction: float | None = None  # from the nominal composition (wt basis)


def _layer_area(layer: Layer, cell: CellSpec) -> float | None:
    if layer.area_cm2 is not None:
        return layer.area_cm2
    if layer.diameter_mm is not None:
        return disc_area_cm2(layer.diameter_mm)
    if cell.area_cm2 is not None:
        return cell.area_cm2
    if cell.diameter_mm is not None:
        return disc_area_cm2(cell.diameter_mm)
    return None


def derive_cell_values(cell: CellSpec, materials: Mapping[str, MaterialFacts]) -> tuple[dict[str, Any], list[dict]]:
    """Compute the derived values of a cell.

    Returns ``(cell_values, layer_values)``: flat unit-suffixed numbers for the cell, and per layer the
    derived area, density and relative density. Values that cannot be derived are absent.

    * electrode area A: the positive (or working) layer's area, else the cell's; from a diameter d as
      pi d^2 / 4;
    * active mass m_act = m_layer x w_act (w_act from the layer, else the material's composition; an
      active material on its own has w_act = 1);
    * mass loading = m_act / A (mg/cm2); composite loading = m_layer / A;
    * 1C current I_1C = (1C specific current) x m_act; its density I_1C / A;
    * areal capacity basis = (theoretical capacity) x m_act / A;
    * layer density = m / (A t); relative density = density / theoretical density.
    """
    values: dict[str, Any] = {}
    layers_out: list[dict] = []
    for layer in cell.layers:
        facts = materials.get(layer.material, MaterialFacts())
        area = _layer_area(layer, cell)
        item: dict[str, Any] = {}
        if area is not None:
            item['area_cm2'] = area
        if layer.mass_mg is not None and layer.thickness_um is not None and area is not None:
            density = (layer.mass_mg / 1000.0) / (area * layer.thickness_um * 1e-4)
            item['density_g_cm3'] = density
            if facts.theoretical_density_g_cm3:
                item['relative_density'] = density / facts.theoretical_density_g_cm3
        layers_out.append(item)

    if cell.area_cm2 is not None:
        values['area_cm2'] = cell.area_cm2
    elif cell.diameter_mm is not None:
        values['area_cm2'] = disc_area_cm2(cell.diameter_mm)

    electrode_index = _first_index(cell, ('positive', 'working'))
    if electrode_index is None and cell.format in ('blocking_pellet', 'symmetric'):
        electrode_index = _first_index(cell, ('electrolyte', 'separator'))
    if electrode_index is not None:
        area = layers_out[electrode_index].get('area_cm2')
        if area is not None:
            values['electrode_area_cm2'] = area

    separator_index = _first_index(cell, ('separator', 'electrolyte'))
    if separator_index is not None:
        layer = cell.layers[separator_index]
        if layer.thickness_um is not None:
            values['electrolyte_thickness_um'] = layer.thickness_um
        if layer.mass_mg is not None:
            values['electrolyte_mass_mg'] = layer.mass_mg
        for key in ('density_g_cm3', 'relative_density'):
            if key in layers_out[separator_index]:
                values[f'electrolyte_{key}'] = layers_out[separator_index][key]

    positive_index = _first_index(cell, ('positive', 'working'))
    if positive_index is not None:
        layer = cell.layers[positive_index]
        facts = materials.get(layer.material, MaterialFacts())
        fraction = layer.active_fraction
        if fraction is None:
            fraction = 1.0 if facts.role == 'active_material' else facts.active_fraction
        area = layers_out[positive_index].get('area_cm2')
        if layer.mass_mg is not None:
            values['positive_mass_mg'] = layer.mass_mg
            if area is not None:
                values['composite_loading_mg_cm2'] = layer.mass_mg / area
            if fraction is not None:
                values['active_fraction'] = fraction
            if fraction is not None and fraction > 0:  # no active material (a stability cell): no loading
                active_mass = layer.mass_mg * fraction
                values['active_mass_mg'] = active_mass
                if area is not None:
                    values['mass_loading_mg_cm2'] = active_mass / area
                one_c = cell.one_c_ma_g or facts.theoretical_capacity_mah_g
                if one_c is not None:
                    values['one_c_basis'] = 'stated' if cell.one_c_ma_g else 'theoretical_capacity'
                    values['one_c_ma_g'] = one_c
                    values['one_c_current_ma'] = one_c * active_mass / 1000.0
                    if area is not None:
                        values['one_c_current_density_ma_cm2'] = values['one_c_current_ma'] / area
                if facts.theoretical_capacity_mah_g is not None and area is not None:
                    values['areal_capacity_basis_mah_cm2'] = (
                        facts.theoretical_capacity_mah_g * active_mass / 1000.0 / area
                    )
    if cell.stack_pressure_mpa is not None:
        values['stack_pressure_mpa'] = cell.stack_pressure_mpa
    if cell.fabrication:
        values['max_fabrication_pressure_mpa'] = max(step.pressure_mpa for step in cell.fabrication)
    return values, layers_out


def _first_index(cell: CellSpec, roles: tuple[str, ...]) -> int | None:
    for role in roles:
        for index, layer in enumerate(cell.layers):
            if layer.role == role:
                return index
    return None


def c_rate_current_ma(c_rate: float, one_c_current_ma: float) -> float:
    """Current of a C-rate: I = C-rate x I_1C."""
    return c_rate * one_c_current_ma


def parse_c_rate(value: Any) -> float:
    """``'C/10'`` -> 0.1, ``'2C'`` -> 2.0, ``0.2`` -> 0.2."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f'C-rate {value!r} must be positive')
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f'{value!r} is not a C-rate')
    text = value.strip().upper().replace(' ', '')
    try:
        if text.startswith('C/'):
            return 1.0 / float(text[2:])
        if text.endswith('C'):
            return float(text[:-1] or 1.0)
        return float(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f'{value!r} is not a C-rate (write e.g. C/10, 0.5C or 2C)') from None
