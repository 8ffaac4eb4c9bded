"""How a cell is counted: its kind, from the layer stack, and the cycling conventions that follow from it.

Pure Python (no AiiDA, no numpy). Two steps, both documented on the page "How aiida-ssb counts":

1. :func:`classify_cell` reads the cell record (format, layer roles and sides, which layers hold an active
   material and which material it is) and says what is being tested: a cathode half cell, an anode half cell, a
   full cell, a three-electrode cell, a symmetric cell, a blocking pellet or a stability cell, with the rule
   that decided. The cell schema stores the outcome as derived values (``cell_kind``, ``cell_kind_rule``,
   ``tested_electrode``).
2. :func:`resolve_conventions` turns the kind into the cycling conventions (which half cycle opens a cycle,
   the coulombic-efficiency orientation, the electrode whose mass is the specific-capacity basis and whose 1C
   current is the C-rate basis). An explicit setting always wins; the result stores each choice with its
   source.

:data:`CHEMISTRIES` is a small table of electrode materials (which electrode they are, and the window of their
average discharge potential against their alkali metal) used to recognise an anode material written as the
working electrode and to check the average discharge voltage of a result (a plausibility flag, never a
decision about the data).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    'CELL_KINDS',
    'CHEMISTRIES',
    'COUNTER_POTENTIALS_V',
    'KIND_CONVENTIONS',
    'CellFacts',
    'Chemistry',
    'Conventions',
    'LayerInfo',
    'ResolvedConventions',
    'average_voltage_window',
    'cell_facts',
    'chemistry_of',
    'classify_cell',
    'ion_of',
    'normalise_formula',
    'resolve_conventions',
]

#: cell kind -> what it is
CELL_KINDS: dict[str, str] = {
    'cathode_half_cell': 'a positive-electrode material (the electrode under test) against a metal or alloy counter '
    'electrode',
    'anode_half_cell': 'a negative-electrode material (Sn, Sb, hard carbon...) against a metal or alloy counter '
    'electrode; it is sodiated (lithiated) first',
    'full_cell': 'a positive and a negative electrode, counted on the positive one',
    'three_electrode_cell': 'a full cell with a reference electrode: the positive and the negative electrode and the '
    'full cell are analysed separately',
    'symmetric_cell': 'the same metal on both sides of the electrolyte (plating/stripping, CCD)',
    'blocking_pellet': 'an electrolyte pellet between ion-blocking electrodes (conductivity)',
    'stability_cell': 'a working electrode without active material (electrolyte/carbon) against a metal',
    'unknown': 'a cell whose record does not say what is tested',
}


@dataclasses.dataclass(frozen=True)
class Conventions:
    """The cycling conventions of a cell kind (``None``: not applicable)."""

    first_half: str
    ce_convention: str
    capacity_electrode: str | None
    c_rate_electrode: str | None


#: cell kind -> conventions (see the page "How aiida-ssb counts")
KIND_CONVENTIONS: dict[str, Conventions] = {
    'cathode_half_cell': Conventions('charge', 'discharge_over_charge', 'positive', 'positive'),
    'anode_half_cell': Conventions('discharge', 'charge_over_discharge', 'negative', 'negative'),
    'full_cell': Conventions('charge', 'discharge_over_charge', 'positive', 'positive'),
    'three_electrode_cell': Conventions('charge', 'discharge_over_charge', 'positive', 'positive'),
    'symmetric_cell': Conventions('charge', 'discharge_over_charge', None, None),
    'blocking_pellet': Conventions('charge', 'discharge_over_charge', None, None),
    'stability_cell': Conventions('charge', 'discharge_over_charge', 'positive', 'positive'),
    'unknown': Conventions('charge', 'discharge_over_charge', 'positive', 'positive'),
}


@dataclasses.dataclass(frozen=True)
class Chemistry:
    """An electrode material: which electrode it is and the window of its average discharge potential (V against
    its alkali metal; generous, for a plausibility check)."""

    name: str
    electrode: str  # 'positive' or 'negative'
    windows_v: Mapping[str, tuple[float, float]]  # ion ('Na', 'Li') -> (low, high)


def _chemistry(name: str, electrode: str, **windows: tuple[float, float]) -> Chemistry:
    return Chemistry(name, electrode, dict(windows))


#: normalised formula -> chemistry. Windows are the range in which the *average* discharge potential of a
#: working cell of that material lies (literature values widened by about 0.2 V); a result outside is flagged.
CHEMISTRIES: dict[str, Chemistry] = {
    'NaCrO2': _chemistry('NaCrO2', 'positive', Na=(2.6, 3.4)),
    'Na3(VOPO4)2F': _chemistry('Na3V2O2(PO4)2F (NVOPF)', 'positive', Na=(3.3, 4.0)),
    'Na3V2O2(PO4)2F': _chemistry('Na3V2O2(PO4)2F (NVOPF)', 'positive', Na=(3.3, 4.0)),
    'Na3V2(PO4)2F3': _chemistry('Na3V2(PO4)2F3', 'positive', Na=(3.4, 4.0)),
    'Na3V2(PO4)3': _chemistry('Na3V2(PO4)3', 'positive', Na=(3.1, 3.6)),
    'NaFePO4': _chemistry('NaFePO4', 'positive', Na=(2.4, 3.1)),
    'Na2FeP2O7': _chemistry('Na2FeP2O7', 'positive', Na=(2.7, 3.3)),
    'TiS2': _chemistry('TiS2', 'positive', Na=(1.4, 2.4), Li=(1.8, 2.4)),
    'LiCoO2': _chemistry('LiCoO2', 'positive', Li=(3.6, 4.1)),
    'LiFePO4': _chemistry('LiFePO4', 'positive', Li=(3.2, 3.5)),
    'LiMn2O4': _chemistry('LiMn2O4', 'positive', Li=(3.8, 4.2)),
    'LiNi0.5Mn1.5O4': _chemistry('LiNi0.5Mn1.5O4', 'positive', Li=(4.4, 4.8)),
    'LiNi0.8Mn0.1Co0.1O2': _chemistry('NMC811', 'positive', Li=(3.5, 4.0)),
    'LiNi0.6Mn0.2Co0.2O2': _chemistry('NMC622', 'positive', Li=(3.5, 4.0)),
    'LiNi0.33Mn0.33Co0.33O2': _chemistry('NMC111', 'positive', Li=(3.5, 4.0)),
    'Sn': _chemistry('Sn', 'negative', Na=(0.05, 0.8), Li=(0.3, 0.8)),
    'Sb': _chemistry('Sb', 'negative', Na=(0.4, 1.0), Li=(0.7, 1.1)),
    'Si': _chemistry('Si', 'negative', Li=(0.1, 0.6)),
    'Li4Ti5O12': _chemistry('Li4Ti5O12', 'negative', Li=(1.4, 1.7)),
    'Na2Ti3O7': _chemistry('Na2Ti3O7', 'negative', Na=(0.15, 0.7)),
}

#: potential of common alloy counter electrodes against their alkali metal (V); a cell voltage against such a
#: counter electrode is lower by this much than the working electrode's potential against the metal
COUNTER_POTENTIALS_V: dict[str, float] = {
    'Na3Sn': 0.10,
    'NaSn': 0.10,
    'Na-Sn': 0.10,
    'LiIn': 0.62,
    'InLi': 0.62,
    'Li-In': 0.62,
    'In-Li': 0.62,
}

_ELEMENT = re.compile(r'([A-Z][a-z]?)')


def normalise_formula(formula: str | None) -> str | None:
    """A formula without spaces (``'Na Cr O2'`` -> ``'NaCrO2'``); None stays None."""
    if not formula:
        return None
    return re.sub(r'\s+', '', str(formula))


def chemistry_of(formula: str | None) -> Chemistry | None:
    """The :class:`Chemistry` of a formula, or None when it is not in :data:`CHEMISTRIES`."""
    key = normalise_formula(formula)
    return CHEMISTRIES.get(key) if key else None


def ion_of(formulas: Sequence[str | None]) -> str | None:
    """``'Na'`` or ``'Li'``: the alkali metal the formulas of a cell contain, or None when they contain both or
    neither."""
    found = set()
    for formula in formulas:
        elements = set(_ELEMENT.findall(normalise_formula(formula) or ''))
        found |= elements & {'Na', 'Li'}
    return found.pop() if len(found) == 1 else None


@dataclasses.dataclass(frozen=True)
class LayerInfo:
    """What the classification needs to know of one layer."""

    role: str
    material: str
    side: str | None = None
    has_active: bool = False
    active_formula: str | None = None


def _polarity(layer: LayerInfo) -> tuple[str, str]:
    """(``'positive'``/``'negative'``, why) of a working or positive layer under test."""
    if layer.side:
        return layer.side, f"its side is given as '{layer.side}'"
    chemistry = chemistry_of(layer.active_formula)
    if chemistry is not None and chemistry.electrode == 'negative':
        return 'negative', f'its active material {layer.active_formula} is a negative-electrode material'
    if layer.role == 'negative':
        return 'negative', "its role is 'negative'"
    return 'positive', f"its role is '{layer.role}'"


def classify_cell(cell_format: str, layers: Sequence[LayerInfo]) -> tuple[str, str | None, int | None, str]:
    """The kind of a cell, the electrode under test (``'positive'``/``'negative'``), the index of that layer and
    the rule that decided (a sentence).

    Rules, in order: ``symmetric``, ``blocking_pellet``, ``full`` and ``three_electrode`` formats are those kinds
    (counted on the positive electrode). A ``half`` cell is tested on its first layer with an active material
    among the roles ``working``, ``positive``, ``negative`` (in that order of preference; ``counter`` and
    ``reference`` layers are never tested): a cathode half cell when that layer is a positive electrode, an anode
    half cell when it is a negative one (its ``side``, else a known negative-electrode material such as Sn,
    else its role). A half cell without any active material is a stability cell.
    """
    if cell_format == 'symmetric':
        return 'symmetric_cell', None, None, 'format symmetric'
    if cell_format == 'blocking_pellet':
        return 'blocking_pellet', None, None, 'format blocking_pellet'
    if cell_format in ('full', 'three_electrode'):
        kind = 'full_cell' if cell_format == 'full' else 'three_electrode_cell'
        index = next((k for k, layer in enumerate(layers) if layer.role == 'positive'), None)
        if index is None:
            index = next((k for k, layer in enumerate(layers) if layer.role == 'working'), None)
        return kind, 'positive', index, f'format {cell_format}: counted on the positive electrode'
    if cell_format != 'half':
        return 'unknown', None, None, f'format {cell_format!r} is not a known cell format'
    for role in ('working', 'positive', 'negative'):
        for index, layer in enumerate(layers):
            if layer.role != role or not layer.has_active:
                continue
            polarity, why = _polarity(layer)
            kind = 'cathode_half_cell' if polarity == 'positive' else 'anode_half_cell'
            return kind, polarity, index, f'half cell tested on layer {index + 1} ({role}, {layer.material}): {why}'
    index = next((k for k, layer in enumerate(layers) if layer.role in ('working', 'positive')), None)
    return 'stability_cell', None, index, 'half cell without an active material in a working or positive layer'


def average_voltage_window(
    kind: str,
    *,
    positive_formula: str | None = None,
    negative_formula: str | None = None,
    counter_formula: str | None = None,
    ion: str | None = None,
) -> tuple[tuple[float, float] | None, str]:
    """The expected window of the average discharge voltage of a cell and how it was found (or why not).

    Half cells: the tested material's window, lowered by the alloy counter electrode's potential
    (:data:`COUNTER_POTENTIALS_V`). Full and three-electrode cells: positive window minus negative window
    (low: positive low - negative high; high: positive high - negative low); a metal negative counts as 0 V.
    """
    if ion is None:
        return None, 'the alkali metal of the cell is not recognised from its formulas'

    def window(formula: str | None, what: str) -> tuple[tuple[float, float] | None, str]:
        chemistry = chemistry_of(formula)
        if chemistry is None or ion not in chemistry.windows_v:
            return None, f'no window known for the {what} material {formula or "(no formula)"} against {ion}'
        return chemistry.windows_v[
            ion
        ], f'{chemistry.name} {chemistry.windows_v[ion][0]:g}-{chemistry.windows_v[ion][1]:g} V'

    if kind in ('cathode_half_cell', 'anode_half_cell'):
        formula = positive_formula if kind == 'cathode_half_cell' else negative_formula
        found, why = window(formula, 'tested')
        if found is None:
            return None, why
        offset = COUNTER_POTENTIALS_V.get(normalise_formula(counter_formula) or '', 0.0)
        note = f'{why} vs {ion}'
        if offset:
            note += f', minus {offset:g} V for the {counter_formula} counter electrode'
        return (found[0] - offset, found[1] - offset), note
    if kind in ('full_cell', 'three_electrode_cell'):
        positive, why_positive = window(positive_formula, 'positive')
        if positive is None:
            return None, why_positive
        negative: tuple[float, float] | None
        if normalise_formula(negative_formula) == ion:
            negative, why_negative = (0.0, 0.0), f'{ion} metal 0 V'
        else:
            negative, why_negative = window(negative_formula, 'negative')
        if negative is None:
            return None, why_negative
        return (positive[0] - negative[1], positive[1] - negative[0]), f'({why_positive}) - ({why_negative})'
    return None, f'no voltage window for a {kind}'


# --------------------------------------------------------------------------------------------------- cell facts


@dataclasses.dataclass(frozen=True)
class CellFacts:
    """What the cycling analysis takes from a cell record (its stored and derived values), as plain data."""

    sample_id: str | None = None
    kind: str = 'unknown'
    kind_rule: str = 'no cell record'
    tested_electrode: str | None = None
    working_electrode: str = 'positive'
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def electrode_value(self, electrode: str | None, name: str) -> Any:
        """``{electrode}_{name}`` (e.g. ``positive_active_mass_mg``), else, for the tested electrode, the
        unprefixed value (records derived before the electrodes were named)."""
        if electrode is None:
            return None
        value = self.values.get(f'{electrode}_{name}')
        if value is None and electrode == self.tested_electrode:
            value = self.values.get(name)
        return value

    def masses_mg(self, bases: Sequence[str], electrode: str | None) -> tuple[dict[str, float], dict[str, str]]:
        """Masses of the requested bases (mg) and, for each basis left out, why."""
        found: dict[str, Any] = {
            'active': self.electrode_value(electrode, 'active_mass_mg'),
            'composite': self.electrode_value(electrode, 'mass_mg'),
            'both_composites': self.values.get('both_composites_mass_mg'),
            'stack': self.values.get('stack_mass_mg'),
            'cell': self.values.get('cell_mass_mg'),
            'electrolyte': self.values.get('electrolyte_mass_mg'),
        }
        if found['composite'] is None and electrode == 'positive':
            found['composite'] = self.values.get('positive_mass_mg')
        notes = dict(self.values.get('mass_basis_notes') or {})
        masses, missing = {}, {}
        for basis in bases:
            value = found.get(basis)
            if value:
                masses[basis] = float(value)
            else:
                missing[basis] = notes.get(basis) or f'the cell record gives no {basis} mass'
        return masses, missing


def cell_facts(attributes: Mapping[str, Any] | None) -> CellFacts:
    """The :class:`CellFacts` of a cell from its attributes (a ``CellData``'s ``base.attributes.all``); cells
    derived before the cell kind existed are classified from their format and layer roles."""
    if not attributes:
        return CellFacts()
    kind = attributes.get('cell_kind')
    rule = attributes.get('cell_kind_rule', '')
    tested = attributes.get('tested_electrode')
    if kind is None:
        layers = [
            LayerInfo(
                role=layer.get('role', ''),
                material=layer.get('material', ''),
                side=layer.get('side'),
                has_active=bool(layer.get('active_fraction')) or layer.get('role') in ('positive', 'working'),
            )
            for layer in attributes.get('layers', [])
        ]
        kind, tested, _, rule = classify_cell(attributes.get('format', ''), layers)
        if kind == 'stability_cell' and attributes.get('active_mass_mg'):
            kind, tested = 'cathode_half_cell', 'positive'
    return CellFacts(
        sample_id=attributes.get('sample_id'),
        kind=kind,
        kind_rule=rule,
        tested_electrode=tested,
        working_electrode=attributes.get('working_electrode') or 'positive',
        values=dict(attributes),
    )


@dataclasses.dataclass(frozen=True)
class ResolvedConventions:
    """The conventions a summary uses, each with where it came from."""

    first_half: str
    ce_convention: str
    capacity_electrode: str | None
    c_rate_electrode: str | None
    sources: Mapping[str, str]

    def describe(self, facts: CellFacts) -> dict[str, Any]:
        """The conventions as stored with a result (``conventions`` of the summary)."""
        out: dict[str, Any] = {
            'cell_kind': facts.kind,
            'cell_kind_rule': facts.kind_rule,
            'first_half': self.first_half,
            'ce_convention': self.ce_convention,
        }
        if self.capacity_electrode:
            out['capacity_electrode'] = self.capacity_electrode
        if self.c_rate_electrode:
            out['c_rate_electrode'] = self.c_rate_electrode
        out['sources'] = dict(self.sources)
        return out


def resolve_conventions(settings: Any, facts: CellFacts) -> ResolvedConventions:
    """The conventions of a summary: each ``auto`` setting from the cell kind (:data:`KIND_CONVENTIONS`), each
    explicit one as given; ``sources`` says which (``option``, ``cell: <kind>`` or ``default``)."""
    by_kind = KIND_CONVENTIONS.get(facts.kind, KIND_CONVENTIONS['unknown'])
    origin = 'default (no cell record)' if facts.kind == 'unknown' else f'cell: {facts.kind}'
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in ('first_half', 'ce_convention', 'capacity_electrode', 'c_rate_electrode'):
        given = getattr(settings, name)
        if given != 'auto':
            values[name], sources[name] = given, 'option'
        else:
            values[name], sources[name] = getattr(by_kind, name), origin
    if sources['c_rate_electrode'] != 'option' and sources['capacity_electrode'] == 'option':
        values['c_rate_electrode'], sources['c_rate_electrode'] = values['capacity_electrode'], 'option (capacity)'
    return ResolvedConventions(sources=sources, **values)
