"""``ssb.cell``: one node per assembled cell, with its derived values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiida_ssb.data.sample import SampleData
from aiida_ssb.schemas.cell import CellSpec, MaterialFacts, derive_cell_values

__all__ = ['CellData']


class CellData(SampleData):
    """A cell: format, layer stack, housing, fabrication and stack pressures, C-rate basis.

    Besides the attributes of :class:`~aiida_ssb.schemas.cell.CellSpec`, it stores the derived values of
    :func:`~aiida_ssb.schemas.cell.derive_cell_values` as top-level attributes (queryable), and their names
    in ``derived_keys``; each layer dict carries its derived area, density and relative density. ``flags`` holds
    the record's plausibility flags (see the page "How aiida-ssb counts").
    """

    def __init__(
        self,
        spec: CellSpec | Mapping[str, Any] | None = None,
        *,
        materials: Mapping[str, MaterialFacts] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if spec is None:
            return
        if not isinstance(spec, CellSpec):
            spec = CellSpec.model_validate(dict(spec))
        attributes = spec.stored()
        derived, layer_values = derive_cell_values(spec, materials or {})
        for layer, values in zip(attributes['layers'], layer_values):
            layer.update({f'derived_{key}': value for key, value in values.items() if key not in layer})
        for key in list(derived):
            if key in attributes:  # stated values stay as stated, derived duplicates are dropped
                derived.pop(key)
        attributes.update(derived)
        attributes['derived_keys'] = sorted(derived)
        self.base.attributes.set_many(attributes)
        self.label = spec.sample_id
        if spec.name:
            self.description = spec.name

    @property
    def format(self) -> str:
        return self.base.attributes.get('format', None)

    @property
    def layers(self) -> list[dict[str, Any]]:
        return self.base.attributes.get('layers', [])

    @property
    def spec(self) -> CellSpec:
        fields = CellSpec.model_fields
        data = {key: value for key, value in self.base.attributes.all.items() if key in fields}
        data['layers'] = [
            {key: value for key, value in layer.items() if not key.startswith('derived_')} for layer in data['layers']
        ]
        return CellSpec.model_validate(data)

    def derived(self) -> dict[str, Any]:
        """The derived values (name -> value)."""
        attributes = self.base.attributes.all
        return {key: attributes[key] for key in attributes.get('derived_keys', []) if key in attributes}

    def layer(self, role: str) -> dict[str, Any] | None:
        """The first layer with this role."""
        for layer in self.layers:
            if layer['role'] == role:
                return layer
        return None

    def electrolyte_geometry(self) -> tuple[float | None, float | None]:
        """(thickness_cm, area_cm2) of the electrolyte/separator layer, for conductivity; None where unknown."""
        for role in ('electrolyte', 'separator'):
            layer = self.layer(role)
            if layer is not None:
                thickness = layer.get('thickness_um')
                area = layer.get('area_cm2', layer.get('derived_area_cm2'))
                return (None if thickness is None else thickness * 1e-4), area
        return None, None

    def conductivity_geometry(self) -> tuple[float | None, float | None, str | None]:
        """(thickness_cm, area_cm2, rule) for a conductivity: the electrolyte layer's thickness and the derived
        ``conductivity_area_cm2`` (the smallest electrode contact where it is smaller than the pellet, else the
        pellet) with its rule; falls back to :meth:`electrolyte_geometry` for cells derived before it existed."""
        thickness, area = self.electrolyte_geometry()
        attributes = self.base.attributes
        derived = attributes.get('conductivity_area_cm2', None)
        if derived is None:
            return thickness, area, None
        return thickness, derived, attributes.get('conductivity_area_rule', None)
