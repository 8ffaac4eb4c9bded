"""Materials: one record per physical batch (powder, precursor, composite, sheet, pellet, foil)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from aiida_ssb.analysis.registry import validate_options
from aiida_ssb.schemas.base import SsbModel
from aiida_ssb.schemas.common import Component, IsoDate, Reference, SampleId

__all__ = ['MATERIAL_ROLES', 'MaterialRole', 'MaterialSpec']

MaterialRole = Literal[
    'precursor',
    'electrolyte',
    'active_material',
    'carbon',
    'binder',
    'solvent',
    'salt',
    'composite',
    'electrode_sheet',
    'pellet',
    'metal_foil',
    'current_collector',
    'liquid_electrolyte',
    'separator',
    'other',
]

#: role -> what it means (shown by the CLI and the docs)
MATERIAL_ROLES: dict[str, str] = {
    'precursor': 'a starting chemical that later steps transform',
    'electrolyte': 'a solid electrolyte powder or its batch',
    'active_material': 'an electrode active material (cathode or anode)',
    'carbon': 'a conductive carbon additive',
    'binder': 'a polymer binder',
    'solvent': 'a solvent',
    'salt': 'a salt (e.g. for a liquid electrolyte)',
    'composite': 'a mixture of several materials (e.g. a cathode composite)',
    'electrode_sheet': 'a cast electrode on its current collector',
    'pellet': 'a pressed pellet',
    'metal_foil': 'a metal foil used as electrode (Na, Li, In)',
    'current_collector': 'a current collector foil or disc (Al, Pt, Ti)',
    'liquid_electrolyte': 'a liquid electrolyte solution',
    'separator': 'a separator sheet',
    'other': 'anything else',
}


class MaterialSpec(SsbModel):
    """A physical batch of material. Only ``sample_id`` and ``role`` are required: what the lab did not
    record stays absent."""

    sample_id: SampleId = Field(validation_alias=AliasChoices('sample_id', 'id'))
    role: MaterialRole
    name: str | None = None
    formula: str | None = None
    form: Literal['powder', 'foil', 'sheet', 'pellet', 'solution', 'liquid', 'crystals', 'other'] | None = None
    supplier: str | None = None
    lot: str | None = None
    purity: str | None = None
    description: str | None = None
    notes: str | None = None
    reference: Reference | None = None
    literature: bool = False
    date: IsoDate | None = None
    nominal_composition: list[Component] | None = None
    measured_composition: list[Component] | None = None
    molar_mass_g_mol: float | None = Field(None, gt=0)
    theoretical_density_g_cm3: float | None = Field(None, gt=0)
    bulk_density_g_cm3: float | None = Field(None, gt=0)
    tap_density_g_cm3: float | None = Field(None, gt=0)
    theoretical_capacity_mah_g: float | None = Field(None, gt=0)
    specific_surface_area_m2_g: float | None = Field(None, gt=0)
    particle_size_um: float | None = Field(None, gt=0)
    mass_mg: float | None = Field(None, gt=0)
    thickness_um: float | None = Field(None, gt=0)
    diameter_mm: float | None = Field(None, gt=0)
    area_cm2: float | None = Field(None, gt=0)
    analysis: dict[str, dict[str, Any]] | None = Field(
        None,
        description='analysis options for the records of this material itself (thermal, diffraction: e.g. the '
        'reference phases); command-line --set overrides them',
    )

    @field_validator('analysis')
    @classmethod
    def _analysis_sections(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """Each section checked against its analysis's settings type (as a cell's ``analysis``)."""
        if value is None:
            return value

        return validate_options(value, where='analysis')

    @model_validator(mode='after')
    def _check_compositions(self) -> MaterialSpec:
        for name in ('nominal_composition', 'measured_composition'):
            components = getattr(self, name)
            if components:
                check_fractions_sum(components, name)
        return self


def check_fractions_sum(components: list[Any], what: str, tolerance: float = 0.005) -> None:
    """Fractions given on one basis must add up to 100 % (within ``tolerance``)."""
    by_basis: dict[str | None, float] = {}
    for component in components:
        fraction = getattr(component, 'fraction', None)
        if fraction is None:
            continue
        basis = getattr(component, 'basis', None)
        by_basis[basis] = by_basis.get(basis, 0.0) + fraction
    for basis, total in by_basis.items():
        if abs(total - 1.0) > tolerance:
            label = f'{basis}%' if basis else '%'
            raise ValueError(f'{what}: fractions add up to {total * 100:.4g} {label}, not 100 {label}')
