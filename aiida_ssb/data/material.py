"""``ssb.material``: one node per physical batch of material."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiida_ssb.data.sample import SampleData
from aiida_ssb.schemas.cell import MaterialFacts
from aiida_ssb.schemas.material import MaterialSpec

__all__ = ['MaterialData', 'active_fraction_of', 'flatten_composition']


class MaterialData(SampleData):
    """A powder, precursor, composite, electrode sheet, pellet or foil batch.

    Attributes are those of :class:`~aiida_ssb.schemas.material.MaterialSpec` (unit-suffixed, absent when
    unknown), plus the derived ``active_fraction`` (mass fraction of active material) when the
    composition allows it, and ``composition_flat`` (the composition expanded down to materials without
    their own composition).
    """

    def __init__(
        self,
        spec: MaterialSpec | Mapping[str, Any] | None = None,
        *,
        derived: Mapping[str, Any] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if spec is None:
            return
        if not isinstance(spec, MaterialSpec):
            spec = MaterialSpec.model_validate(dict(spec))
        attributes = spec.stored()
        attributes.update(derived or {})
        if 'composition_flat' not in attributes and attributes.get('nominal_composition'):
            flat = flatten_composition(attributes['nominal_composition'], {})
            if flat is not None:
                attributes['composition_flat'] = flat
                fraction = active_fraction_of(flat)
                if fraction is not None and 'active_fraction' not in attributes:
                    attributes['active_fraction'] = fraction
        self.base.attributes.set_many(attributes)
        self.label = spec.sample_id
        if spec.name:
            self.description = spec.name

    @property
    def role(self) -> str:
        return self.base.attributes.get('role', None)

    @property
    def name(self) -> str | None:
        return self.base.attributes.get('name', None)

    @property
    def spec(self) -> MaterialSpec:
        """The validated spec (derived attributes left out)."""
        fields = MaterialSpec.model_fields
        data = {key: value for key, value in self.base.attributes.all.items() if key in fields}
        return MaterialSpec.model_validate(data)

    def facts(self):
        """What cell derivations need to know of this material."""

        attributes = self.base.attributes.all
        get = attributes.get
        return MaterialFacts(
            role=get('role'),
            theoretical_density_g_cm3=get('theoretical_density_g_cm3'),
            theoretical_capacity_mah_g=get('theoretical_capacity_mah_g'),
            active_fraction=get('active_fraction'),
        )


#: roles of materials that are mixtures: their composition is expanded when they enter another mixture.
#: Reaction products (an electrolyte milled from precursors, a calcined active material) stay single phases.
MIXTURE_ROLES = ('composite', 'electrode_sheet')


def flatten_composition(
    components: Sequence[Mapping[str, Any]], lookup: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]] | None:
    """Expand the mixtures inside a mass-basis composition down to single-phase materials.

    ``lookup`` maps a sample id to that material's attributes. A component whose material is a mixture
    (role composite or electrode_sheet) with a known flat composition is replaced by its components,
    weighted; every other component is a single phase. Returns ``[{material, fraction, basis, role}]``
    summed per material, or None when the composition is not on a mass basis (no molar masses assumed).
    """
    totals: dict[str, dict[str, Any]] = {}
    for item in components:
        if item.get('basis') not in (None, 'wt'):
            return None
        inner = lookup.get(item['material'], {})
        nested = inner.get('composition_flat') if inner.get('role') in MIXTURE_ROLES else None
        parts = nested if nested else [dict(item, role=item.get('role') or inner.get('role'))]
        weight = float(item['fraction']) if nested else 1.0
        for part in parts:
            entry = totals.setdefault(part['material'], {'material': part['material'], 'fraction': 0.0, 'basis': 'wt'})
            entry['fraction'] += weight * float(part['fraction'])
            if part.get('role'):
                entry['role'] = part['role']
    return list(totals.values())


def active_fraction_of(flat: Sequence[Mapping[str, Any]] | None) -> float | None:
    """Mass fraction of active material in a flattened mass-basis composition (None if undeterminable)."""
    if not flat:
        return None
    if any('role' not in item for item in flat):
        return None
    return sum(item['fraction'] for item in flat if item['role'] == 'active_material')
