"""Cells: the layer stack, its housing and pressures, and the values derived from them.

Derived values are computed here, never typed: what the cell is (its kind and the electrode under test), the
areas (electrode, electrolyte, conductivity; each layer may state its own contact area), active masses and
loadings of both electrodes, 1C current and current density, theoretical areal capacities and the N/P ratio,
the masses of the named normalisation bases, densities and relative densities where a theoretical density is
known, and the record's plausibility flags. The rules are on the docs page "How aiida-ssb counts".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from aiida_ssb.analysis.cycling.conventions import LayerInfo, average_voltage_window, classify_cell, ion_of
from aiida_ssb.analysis.registry import validate_options
from aiida_ssb.schemas.base import SsbModel
from aiida_ssb.schemas.common import Fraction, IsoDate, Reference, SampleId, check_circuit_bounds
from aiida_ssb.schemas.uncertainty import split_stated_uncertainties

__all__ = [
    'CELL_FLAGS',
    'CELL_FORMATS',
    'LAYER_ROLES',
    'CellSpec',
    'Layer',
    'MaterialFacts',
    'PressingStep',
    'derive_cell_values',
    'material_facts',
]

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
    diameter_mm: float | None = Field(
        None, gt=0, description="the layer's own diameter: its contact area (default: the cell's diameter)"
    )
    area_cm2: float | None = Field(None, gt=0, description="the layer's own contact area (default: the cell's area)")
    thickness_um: float | None = Field(None, gt=0)
    active_fraction: Fraction | None = Field(
        None, description='mass fraction of active material in this layer (else taken from the material composition)'
    )
    side: Literal['positive', 'negative'] | None = Field(
        None,
        description='which side of the cell the layer is on; for the working layer of a half cell, whether it is a '
        'positive or a negative electrode material (an anode half cell: negative)',
    )
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
        None,
        gt=0,
        description='specific current of 1C per mass of active material of the electrode the C-rate is counted on '
        '(the electrode under test of a half cell, the positive electrode of a full cell; e.g. 130 mA/g for NVOPF)',
    )
    working_electrode: Literal['positive', 'negative'] | None = Field(
        None,
        description='three-electrode cells: the electrode on the working lead (its potential is Ewe; the other '
        'one is on the counter lead, Ece); default positive',
    )
    housing_mass_mg: float | None = Field(
        None, gt=0, description='mass of the housing (for the whole-cell mass basis of specific energies)'
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
    def _analysis_sections(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """Each section checked against its analysis's settings type; sections named as the analyses (former
        names such as ``eis`` and ``growth`` are renamed)."""
        if value is None:
            return value

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
        if self.format == 'half' and not {'positive', 'working', 'negative'} & set(roles):
            raise ValueError('a half cell needs a positive, negative or working layer (the electrode under test)')
        if self.format in ('full', 'three_electrode') and 'positive' not in roles and 'working' not in roles:
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
    """What the cell derivations need to know of a layer's material (see :func:`material_facts`)."""

    role: str | None = None
    theoretical_density_g_cm3: float | None = None
    theoretical_capacity_mah_g: float | None = None  # of the active material (inside a mixture: derived)
    active_fraction: float | None = None  # from the nominal composition (wt basis)
    formula: str | None = None
    active_formula: str | None = None  # the formula of the active material inside (itself for an active material)
    solids_fraction: float | None = None  # mass fraction of active material, carbon and binder (wt basis)
    stated_loading_mg_cm2: float | None = None  # the loading stated for the sheet it was cut from
    stated_loading_basis: str | None = None  # 'active' or 'composite'
    stated_loading_source: str | None = None  # the sample id of that sheet


def material_facts(attributes: Mapping[str, Any]) -> MaterialFacts:
    """The :class:`MaterialFacts` of a material from its attributes (stated and derived)."""
    get = attributes.get
    solids = None
    flat = get('composition_flat')
    if get('role') in ('active_material', 'metal_foil'):
        solids = 1.0
    elif flat and all(item.get('role') for item in flat):
        solids = math.fsum(item['fraction'] for item in flat if item['role'] in ELECTRODE_SOLIDS)
    active_formula = get('active_formula')
    if active_formula is None and get('role') == 'active_material':
        active_formula = get('formula')
    capacity = get('theoretical_capacity_mah_g')
    if get('role') != 'active_material' and get('active_theoretical_capacity_mah_g') is not None:
        capacity = get('active_theoretical_capacity_mah_g')
    return MaterialFacts(
        role=get('role'),
        theoretical_density_g_cm3=get('theoretical_density_g_cm3'),
        theoretical_capacity_mah_g=capacity,
        active_fraction=get('active_fraction'),
        formula=get('formula'),
        active_formula=active_formula,
        solids_fraction=solids,
        stated_loading_mg_cm2=get('stated_loading_mg_cm2'),
        stated_loading_basis=get('stated_loading_basis'),
        stated_loading_source=get('stated_loading_source'),
    )


#: plausibility flags of a cell record -> (severity, meaning and threshold)
CELL_FLAGS: dict[str, tuple[str, str]] = {
    'relative_density_above_1': (
        'error',
        f'a layer whose density m / (A t) exceeds its material theoretical density by more than '
        f'{100 * 0.01:g} %: mass, thickness, diameter or theoretical density is wrong',
    ),
    'loading_contradicts_sheet': (
        'warning',
        'the loading derived for an electrode layer (mass x active fraction / area) differs by more than 10 % from '
        'the loading stated for the sheet it was cut from',
    ),
}
RELATIVE_DENSITY_TOLERANCE = 0.01
LOADING_TOLERANCE = 0.10

#: material roles that make up an electrode composite without its electrolyte
ELECTRODE_SOLIDS = ('active_material', 'carbon', 'binder')

#: layer roles that are electrodes (the rest: electrolyte, separator, current collector, interlayer)
ELECTRODE_ROLES = ('positive', 'negative', 'working', 'counter', 'blocking_electrode')


def _flag(name: str, reason: str, **details: Any) -> dict[str, Any]:
    out = {'flag': name, 'severity': CELL_FLAGS[name][0], 'reason': reason}
    out.update({key: value for key, value in details.items() if value is not None})
    return out


def _own_area(layer: Layer) -> float | None:
    if layer.area_cm2 is not None:
        return layer.area_cm2
    if layer.diameter_mm is not None:
        return disc_area_cm2(layer.diameter_mm)
    return None


def _cell_area(cell: CellSpec) -> float | None:
    if cell.area_cm2 is not None:
        return cell.area_cm2
    if cell.diameter_mm is not None:
        return disc_area_cm2(cell.diameter_mm)
    return None


def _layer_area(layer: Layer, cell: CellSpec) -> float | None:
    own = _own_area(layer)
    return own if own is not None else _cell_area(cell)


def _active_fraction(layer: Layer, facts: MaterialFacts) -> float | None:
    if layer.active_fraction is not None:
        return layer.active_fraction
    return 1.0 if facts.role == 'active_material' else facts.active_fraction


def _layer_values(
    cell: CellSpec, materials: Mapping[str, MaterialFacts]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per layer: derived area, density and relative density; and the record flags they raise."""
    layers_out: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []
    for index, layer in enumerate(cell.layers):
        facts = materials.get(layer.material, MaterialFacts())
        area = _layer_area(layer, cell)
        item: dict[str, Any] = {}
        if area is not None:
            item['area_cm2'] = area
        if layer.mass_mg is not None and layer.thickness_um is not None and area is not None:
            density = (layer.mass_mg / 1000.0) / (area * layer.thickness_um * 1e-4)
            item['density_g_cm3'] = density
            if facts.theoretical_density_g_cm3:
                relative = density / facts.theoretical_density_g_cm3
                item['relative_density'] = relative
                if relative > 1.0 + RELATIVE_DENSITY_TOLERANCE:
                    flags.append(
                        _flag(
                            'relative_density_above_1',
                            f'layer {index + 1} ({layer.role}, {layer.material}): {layer.mass_mg:g} mg over '
                            f'{area:.4g} cm2 and {layer.thickness_um:g} um is {density:.3g} g/cm3, '
                            f'{relative:.2f} x the theoretical {facts.theoretical_density_g_cm3:g} g/cm3',
                            layer=index + 1,
                            value=relative,
                        )
                    )
        layers_out.append(item)
    return layers_out, flags


def _classify(cell: CellSpec, materials: Mapping[str, MaterialFacts]) -> tuple[str, str | None, int | None, str]:
    infos = []
    for layer in cell.layers:
        facts = materials.get(layer.material, MaterialFacts())
        fraction = _active_fraction(layer, facts)
        infos.append(
            LayerInfo(
                role=layer.role,
                material=layer.material,
                side=layer.side if layer.role in ('working', 'positive') else None,
                has_active=bool(fraction) and facts.role not in ('metal_foil', 'current_collector'),
                active_formula=facts.active_formula,
            )
        )
    return classify_cell(cell.format, infos)


def _electrode_layers(cell: CellSpec, kind: str, tested: str | None, index: int | None) -> dict[str, int]:
    """side -> layer index of the electrodes whose values are derived: both of a full cell, the tested one of a
    half cell (its polarity as the side), the working/positive layer of a stability cell."""
    if kind in ('full_cell', 'three_electrode_cell'):
        sides = {}
        positive = _first_index(cell, ('positive', 'working'))
        negative = _first_index(cell, ('negative',))
        if positive is not None:
            sides['positive'] = positive
        if negative is not None:
            sides['negative'] = negative
        return sides
    if kind in ('cathode_half_cell', 'anode_half_cell') and tested is not None and index is not None:
        return {tested: index}
    if kind == 'stability_cell' and index is not None:
        return {'positive': index}
    return {}


def _electrode_values(
    side: str,
    layer: Layer,
    area: float | None,
    facts: MaterialFacts,
    one_c_ma_g: float | None,
) -> dict[str, Any]:
    """``{side}_*`` values of one electrode layer."""
    out: dict[str, Any] = {f'{side}_material': layer.material}
    if facts.active_formula:
        out[f'{side}_active_material'] = facts.active_formula
    if facts.theoretical_capacity_mah_g is not None:
        out[f'{side}_theoretical_capacity_mah_g'] = facts.theoretical_capacity_mah_g
    if layer.mass_mg is None:
        return out
    out[f'{side}_mass_mg'] = layer.mass_mg
    if area is not None:
        out[f'{side}_composite_loading_mg_cm2'] = layer.mass_mg / area
    if facts.solids_fraction is not None:
        out[f'{side}_solids_fraction'] = facts.solids_fraction
    fraction = _active_fraction(layer, facts)
    if fraction is None or fraction <= 0:  # no active material (a stability cell): no loading
        return out
    active = layer.mass_mg * fraction
    out[f'{side}_active_fraction'] = fraction
    out[f'{side}_active_mass_mg'] = active
    if area is not None:
        out[f'{side}_mass_loading_mg_cm2'] = active / area
    one_c = one_c_ma_g or facts.theoretical_capacity_mah_g
    if one_c is not None:
        out[f'{side}_one_c_ma_g'] = one_c
        out[f'{side}_one_c_current_ma'] = one_c * active / 1000.0
    if facts.theoretical_capacity_mah_g is not None and area is not None:
        out[f'{side}_areal_capacity_theoretical_mah_cm2'] = facts.theoretical_capacity_mah_g * active / 1000.0 / area
    return out


def _loading_flags(
    side: str, index: int, layer: Layer, facts: MaterialFacts, values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    stated = facts.stated_loading_mg_cm2
    if stated is None:
        return []
    key = (
        f'{side}_mass_loading_mg_cm2' if facts.stated_loading_basis == 'active' else f'{side}_composite_loading_mg_cm2'
    )
    derived = values.get(key)
    if derived is None or abs(derived / stated - 1.0) <= LOADING_TOLERANCE:
        return []
    return [
        _flag(
            'loading_contradicts_sheet',
            f'layer {index + 1} ({layer.role}, {layer.material}): derived {facts.stated_loading_basis} loading '
            f'{derived:.3g} mg/cm2, the sheet {facts.stated_loading_source} states {stated:.3g} mg/cm2 '
            f'({100 * (derived / stated - 1):+.0f} %)',
            layer=index + 1,
            value=derived,
            stated=stated,
        )
    ]


def _areas(cell: CellSpec, kind: str, layers_out: list[dict[str, Any]], tested_index: int | None) -> dict[str, Any]:
    """The electrode area (current density, areal capacity, CCD, ASR), the electrolyte area and the conductivity
    area, each with its rule, and the number of electrode/electrolyte interfaces."""
    out: dict[str, Any] = {}
    electrolyte = _first_index(cell, ('electrolyte', 'separator'))
    electrolyte_area = layers_out[electrolyte].get('area_cm2') if electrolyte is not None else None
    if electrolyte_area is not None:
        out['electrolyte_area_cm2'] = electrolyte_area
    contacts: list[tuple[int, float]] = []
    for index, layer in enumerate(cell.layers):
        own = _own_area(layer)
        if layer.role in ELECTRODE_ROLES and own is not None:
            contacts.append((index, own))
    smallest = min(contacts, key=lambda item: item[1]) if contacts else None

    def named(index: int | None) -> str:
        if index is None:
            return 'no layer'
        layer = cell.layers[index]
        return f'layer {index + 1} ({layer.role}, {layer.material})'

    if kind in ('symmetric_cell', 'blocking_pellet'):
        if smallest is not None and (electrolyte_area is None or smallest[1] < electrolyte_area):
            out['electrode_area_cm2'] = smallest[1]
            out['electrode_area_rule'] = f'the smaller electrode contact: {named(smallest[0])}'
        elif electrolyte_area is not None:
            out['electrode_area_cm2'] = electrolyte_area
            out['electrode_area_rule'] = f'the electrolyte layer, {named(electrolyte)} (no smaller electrode contact)'
        if kind == 'symmetric_cell':
            out['n_interfaces'] = 2
    elif tested_index is not None and layers_out[tested_index].get('area_cm2') is not None:
        out['electrode_area_cm2'] = layers_out[tested_index]['area_cm2']
        own = _own_area(cell.layers[tested_index]) is not None
        out['electrode_area_rule'] = f'the electrode under test, {named(tested_index)}' + (
            '' if own else ' (the cell area)'
        )
    if electrolyte_area is not None:
        if smallest is not None and smallest[1] < electrolyte_area:
            out['conductivity_area_cm2'] = smallest[1]
            out['conductivity_area_rule'] = f'the smallest electrode contact, {named(smallest[0])}'
        else:
            out['conductivity_area_cm2'] = electrolyte_area
            out['conductivity_area_rule'] = f'the electrolyte layer, {named(electrolyte)}'
    return out


def _mass_bases(
    cell: CellSpec, kind: str, sides: Mapping[str, int], materials: Mapping[str, MaterialFacts]
) -> dict[str, Any]:
    """Masses of the named bases both_composites, stack and cell, and why those not derived are absent."""
    out: dict[str, Any] = {}
    notes: dict[str, str] = {}
    if kind in ('full_cell', 'three_electrode_cell'):
        parts: list[float] | None = []
        assumed: list[str] = []
        for side in ('positive', 'negative'):
            index = sides.get(side)
            layer = cell.layers[index] if index is not None else None
            if layer is None or layer.mass_mg is None or parts is None:
                parts = None
                notes['both_composites'] = f'the {side} electrode layer has no mass'
                break
            fraction = materials.get(layer.material, MaterialFacts()).solids_fraction
            if fraction is None:
                assumed.append(f'{side} {layer.material}')
                fraction = 1.0
            parts.append(layer.mass_mg * fraction)
        if parts:
            out['both_composites_mass_mg'] = math.fsum(parts)
            if assumed:
                notes['both_composites'] = (
                    f'composition unknown for {", ".join(assumed)}: counted with its whole layer mass'
                )
    else:
        notes['both_composites'] = f'a {kind} has no positive and negative electrode pair'
    stack = [layer for layer in cell.layers if layer.role != 'reference']
    masses = [layer.mass_mg for layer in stack if layer.mass_mg is not None]
    unweighed = [f'{layer.role} {layer.material}' for layer in stack if layer.mass_mg is None]
    if unweighed:
        notes['stack'] = f'no mass for {", ".join(unweighed)}'
        notes['cell'] = notes['stack']
    else:
        out['stack_mass_mg'] = math.fsum(masses)
        if cell.housing_mass_mg is not None:
            out['cell_mass_mg'] = out['stack_mass_mg'] + cell.housing_mass_mg
        else:
            notes['cell'] = 'no housing mass recorded (housing_mass)'
    if notes:
        out['mass_basis_notes'] = notes
    return out


def _voltage_window(
    cell: CellSpec, kind: str, sides: Mapping[str, int], materials: Mapping[str, MaterialFacts]
) -> dict[str, Any]:
    def formula(index: int | None) -> str | None:
        return materials.get(cell.layers[index].material, MaterialFacts()).active_formula if index is not None else None

    counter_index = _first_index(cell, ('counter',))
    if counter_index is None and kind == 'cathode_half_cell':
        counter_index = _first_index(cell, ('negative',))
    counter = materials.get(cell.layers[counter_index].material, MaterialFacts()) if counter_index is not None else None
    formulas = []
    for layer in cell.layers:
        facts = materials.get(layer.material, MaterialFacts())
        formulas += [facts.formula, facts.active_formula]
    window, rule = average_voltage_window(
        kind,
        positive_formula=formula(sides.get('positive')),
        negative_formula=formula(sides.get('negative'))
        or (counter.formula if counter and kind == 'full_cell' else None),
        counter_formula=(counter.active_formula or counter.formula) if counter else None,
        ion=ion_of(formulas),
    )
    out: dict[str, Any] = {'average_voltage_window_rule': rule}
    if window is not None:
        out['average_voltage_window_v'] = [round(window[0], 3), round(window[1], 3)]
    return out


def derive_cell_values(
    cell: CellSpec, materials: Mapping[str, MaterialFacts]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Compute the derived values of a cell (the rules are on the docs page "How aiida-ssb counts").

    Returns ``(cell_values, layer_values)``: flat unit-suffixed values for the cell, and per layer the derived
    area, density and relative density. Values that cannot be derived are absent; ``flags`` lists the record's
    plausibility flags (:data:`CELL_FLAGS`).

    * the cell kind (:func:`~aiida_ssb.analysis.cycling.conventions.classify_cell`) and the electrode under test;
    * areas: the electrode area (the tested electrode's; the smaller electrode contact of a symmetric cell or a
      blocking pellet), the electrolyte area and the conductivity area, each with its rule;
    * per electrode (``positive_*``, ``negative_*``): layer mass, active fraction and mass
      m_act = m_layer x w_act, loading m_act / A and composite loading m_layer / A, theoretical capacity, areal
      capacity q_theo m_act / A, 1C current;
    * the electrode under test without prefix (``active_mass_mg``, ``mass_loading_mg_cm2``,
      ``one_c_current_ma``...), as before;
    * N/P from theoretical capacities (full cells), the masses of the named bases, the expected window of the
      average discharge voltage;
    * layer density m / (A t) and relative density against the material's theoretical density.
    """
    layers_out, flags = _layer_values(cell, materials)
    values: dict[str, Any] = {}
    cell_area = _cell_area(cell)
    if cell_area is not None:
        values['area_cm2'] = cell_area
    kind, tested, tested_index, rule = _classify(cell, materials)
    values.update({'cell_kind': kind, 'cell_kind_rule': rule})
    if tested is not None and tested_index is not None:
        values['tested_electrode'] = tested
        values['tested_material'] = cell.layers[tested_index].material
    if kind == 'three_electrode_cell':
        values['working_electrode'] = cell.working_electrode or 'positive'
    values.update(_areas(cell, kind, layers_out, tested_index))
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
    sides = _electrode_layers(cell, kind, tested, tested_index)
    c_rate_side = tested or 'positive'
    for side, index in sides.items():
        facts = materials.get(cell.layers[index].material, MaterialFacts())
        stated = cell.one_c_ma_g if side == c_rate_side else None
        values.update(_electrode_values(side, cell.layers[index], layers_out[index].get('area_cm2'), facts, stated))
        flags += _loading_flags(side, index, cell.layers[index], facts, values)
    _unprefixed(values, c_rate_side, cell.one_c_ma_g, values.get('electrode_area_cm2'))
    if kind in ('full_cell', 'three_electrode_cell'):
        negative = values.get('negative_areal_capacity_theoretical_mah_cm2')
        positive = values.get('positive_areal_capacity_theoretical_mah_cm2')
        if negative and positive:
            values['np_ratio_theoretical'] = negative / positive
    values.update(_mass_bases(cell, kind, sides, materials))
    values.update(_voltage_window(cell, kind, sides, materials))
    if cell.stack_pressure_mpa is not None:
        values['stack_pressure_mpa'] = cell.stack_pressure_mpa
    if cell.fabrication:
        values['max_fabrication_pressure_mpa'] = max(step.pressure_mpa for step in cell.fabrication)
    values['flags'] = flags
    return values, layers_out


def _unprefixed(values: dict[str, Any], side: str, stated_one_c: float | None, area: float | None) -> None:
    """The electrode under test (the positive one of a full cell) without prefix, under the names used before
    both electrodes were derived."""
    for name in ('active_fraction', 'active_mass_mg', 'mass_loading_mg_cm2', 'composite_loading_mg_cm2'):
        if f'{side}_{name}' in values:
            values[name] = values[f'{side}_{name}']
    if f'{side}_mass_mg' in values:
        values['composite_mass_mg'] = values[f'{side}_mass_mg']
    if f'{side}_theoretical_capacity_mah_g' in values:
        values['theoretical_capacity_mah_g'] = values[f'{side}_theoretical_capacity_mah_g']
    if f'{side}_one_c_current_ma' in values:
        values['one_c_basis'] = 'stated' if stated_one_c else 'theoretical_capacity'
        values['one_c_ma_g'] = values[f'{side}_one_c_ma_g']
        values['one_c_current_ma'] = values[f'{side}_one_c_current_ma']
        values['c_rate_electrode'] = side
        if area is not None:
            values['one_c_current_density_ma_cm2'] = values['one_c_current_ma'] / area
    if f'{side}_areal_capacity_theoretical_mah_cm2' in values:
        values['areal_capacity_basis_mah_cm2'] = values[f'{side}_areal_capacity_theoretical_mah_cm2']


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
