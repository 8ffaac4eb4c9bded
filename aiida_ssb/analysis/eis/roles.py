"""Physical roles of the elements of a fitted circuit, assigned from the physics when the user gives none.

Each *arc* is a top-level series block ``p(R, CPE)`` or ``p(R, C)``. Its effective capacitance (Hsu and
Mansfeld 2001, for a CPE in parallel with a resistance) and characteristic frequency are

.. math::

    C_\\mathrm{eff} = Q^{1/\\alpha} R^{(1-\\alpha)/\\alpha}, \\qquad
    f_\\mathrm{c} = \\frac{1}{2\\pi (R Q)^{1/\\alpha}}

(``C_eff = C`` and ``f_c = 1/(2 pi R C)`` for a capacitor). The capacitance says what the arc is (Irvine,
Sinclair and West 1990): normalised by the cell constant, ``c = C_eff L / A`` (F/cm), a bulk response has
the geometric capacitance of the electrolyte (about 1e-12 F/cm, ``c < 3e-11``), a grain boundary
``3e-11 <= c < 1e-7`` F/cm, an electrode interface ``c >= 1e-7`` F/cm. In a cell, a capacitance per
electrode area ``C_eff / A`` below 1e-8 F/cm2 belongs to the electrolyte (bulk, grain boundary); larger
ones are interfaces.

Rules (``roles`` given by the user win; the rest are assigned here and each says how):

* **blocking pellet**: arcs classified by ``c`` (bulk, grain boundary, electrode); without the geometry, by
  frequency order (the fastest arc is the bulk, the next the grain boundary, the rest electrode). A series
  resistance is the ``bulk`` when no arc is (its arc lies above the measured frequencies), else ``series``
  (leads). A series CPE or C is the ``electrode`` (blocking), a Warburg element ``diffusion``.
* **symmetric, half, full, three-electrode cells**: the series resistance is the ``electrolyte``; arcs
  with ``C_eff / A < 1e-8`` F/cm2 are the electrolyte's ``bulk`` then ``grain_boundary``; the others, in
  order of decreasing frequency, ``interface`` (the metal/electrolyte interface), ``cathode_interphase`` and
  ``charge_transfer`` (a symmetric cell's are all ``interface``: two equal interfaces in series). A series
  CPE or C is the ``electrode``, a Warburg element ``diffusion``.
* an inductor is ``inductance``; any other block is ``unassigned``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from aiida_ssb.analysis.eis.circuit import Circuit, Element, Parallel, Series

__all__ = [
    'BULK_MAX_F_CM',
    'CELL_ELECTROLYTE_MAX_F_CM2',
    'ELECTRODE_MIN_F_CM',
    'Arc',
    'RoleAssignment',
    'arcs_of',
    'assign_roles',
    'circuit_blocks',
]

#: largest specific capacitance C_eff L / A (F/cm) of a bulk response (epsilon_r up to about 300)
BULK_MAX_F_CM = 3e-11
#: smallest specific capacitance (F/cm) of an electrode/interface response
ELECTRODE_MIN_F_CM = 1e-7
#: in a cell: largest capacitance per electrode area (F/cm2) of an electrolyte (bulk, grain boundary) arc
CELL_ELECTROLYTE_MAX_F_CM2 = 1e-8

PELLET_FORMATS = ('blocking_pellet',)


@dataclasses.dataclass(frozen=True)
class Arc:
    """A top-level ``p(R, CPE)`` or ``p(R, C)`` block: its resistor and capacitive element."""

    resistor: str
    capacitor: str
    kind: str  # 'CPE' or 'C'

    def parameters(self, values: Mapping[str, float]) -> tuple[float, float, float]:
        """``(R, Q or C, alpha)``."""
        r = float(values[self.resistor])
        if self.kind == 'CPE':
            return r, float(values[f'{self.capacitor}_Q']), float(values[f'{self.capacitor}_alpha'])
        return r, float(values[self.capacitor]), 1.0

    def effective_capacitance_f(self, values: Mapping[str, float]) -> float:
        r, q, alpha = self.parameters(values)
        if alpha <= 0:
            return math.inf
        return math.exp((math.log(q) + (1.0 - alpha) * math.log(r)) / alpha)

    def characteristic_frequency_hz(self, values: Mapping[str, float]) -> float:
        """``1 / (2 pi (R Q)^(1/alpha))``, computed in logarithms (alpha near 0 gives 0 or inf, not an error)."""
        r, q, alpha = self.parameters(values)
        if alpha <= 0:
            return 0.0
        log_f = -math.log(2.0 * math.pi) - math.log(r * q) / alpha
        return math.exp(max(min(log_f, 700.0), -700.0))


def circuit_blocks(circuit: Circuit | str) -> list[tuple[str, Any]]:
    """The top-level series blocks: ``('series_r', name)``, ``('inductor', name)``, ``('tail', element)``,
    ``('arc', Arc)`` or ``('other', node)``."""
    if isinstance(circuit, str):
        circuit = Circuit(circuit)
    root = circuit.tree
    blocks = root.children if isinstance(root, Series) else [root]
    out: list[tuple[str, Any]] = []
    for block in blocks:
        if isinstance(block, Element):
            symbol = block.kind.symbol
            if symbol == 'R':
                out.append(('series_r', block.name))
            elif symbol == 'L':
                out.append(('inductor', block.name))
            else:
                out.append(('tail', block))
            continue
        if isinstance(block, Parallel) and len(block.children) == 2:
            kinds = {child.kind.symbol: child for child in block.children if isinstance(child, Element)}
            if 'R' in kinds and ('CPE' in kinds or 'C' in kinds) and len(kinds) == 2:
                cap = kinds.get('CPE') or kinds['C']
                out.append(('arc', Arc(kinds['R'].name, cap.name, cap.kind.symbol)))
                continue
        out.append(('other', block))
    return out


def arcs_of(circuit: Circuit | str) -> list[Arc]:
    """The arcs of a circuit, in the order written."""
    return [item for kind, item in circuit_blocks(circuit) if kind == 'arc']


@dataclasses.dataclass
class RoleAssignment:
    """Roles by element name, how each was assigned, and the arcs' capacitances and frequencies."""

    roles: dict[str, str]
    methods: dict[str, str]
    arcs: list[dict[str, Any]]
    notes: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for element, role in self.roles.items():
            out[f'role_{element.lower()}'] = role
            out[f'role_source_{element.lower()}'] = self.methods[element]
        out['arcs'] = self.arcs
        if self.notes:
            out['role_notes'] = list(self.notes)
        return out


def _pellet_class(c_f_cm: float) -> str:
    if c_f_cm < BULK_MAX_F_CM:
        return 'bulk'
    if c_f_cm < ELECTRODE_MIN_F_CM:
        return 'grain_boundary'
    return 'electrode'


def _assign_pellet(arcs: list[dict[str, Any]], geometry: bool) -> tuple[dict[str, str], dict[str, str]]:
    roles: dict[str, str] = {}
    methods: dict[str, str] = {}
    order = ('bulk', 'grain_boundary')
    for rank, arc in enumerate(arcs):
        if geometry:
            role = _pellet_class(arc['specific_capacitance_f_cm'])
            methods[arc['resistor']] = (
                f'C_eff L/A = {arc["specific_capacitance_f_cm"]:.2g} F/cm: '
                + {
                    'bulk': f'bulk range (< {BULK_MAX_F_CM:g} F/cm)',
                    'grain_boundary': f'grain-boundary range ({BULK_MAX_F_CM:g} to {ELECTRODE_MIN_F_CM:g} F/cm)',
                    'electrode': f'electrode-interface range (>= {ELECTRODE_MIN_F_CM:g} F/cm)',
                }[role]
            )
        else:
            role = order[rank] if rank < len(order) else 'electrode'
            methods[arc['resistor']] = f'frequency order: arc {rank + 1} from the high-frequency end (no geometry)'
        roles[arc['resistor']] = role
    return roles, methods


def _assign_cell(arcs: list[dict[str, Any]], cell_format: str | None) -> tuple[dict[str, str], dict[str, str]]:
    roles: dict[str, str] = {}
    methods: dict[str, str] = {}
    electrolyte = ('bulk', 'grain_boundary')
    interfaces = (
        ('interface',) * 3 if cell_format == 'symmetric' else ('interface', 'cathode_interphase', 'charge_transfer')
    )
    n_electrolyte = n_interface = 0
    for arc in arcs:
        per_area = arc.get('capacitance_per_area_f_cm2')
        if per_area is not None and per_area < CELL_ELECTROLYTE_MAX_F_CM2 and n_electrolyte < len(electrolyte):
            role = electrolyte[n_electrolyte]
            n_electrolyte += 1
            methods[arc['resistor']] = (
                f'C_eff/A = {per_area:.2g} F/cm2 < {CELL_ELECTROLYTE_MAX_F_CM2:g}: an electrolyte arc, '
                f'{"the fastest" if role == "bulk" else "the next"}'
            )
        else:
            role = interfaces[min(n_interface, len(interfaces) - 1)]
            n_interface += 1
            basis = f'C_eff/A = {per_area:.2g} F/cm2; ' if per_area is not None else ''
            methods[arc['resistor']] = (
                f'{basis}frequency order: interfacial arc {n_interface} from the high-frequency end'
            )
        roles[arc['resistor']] = role
    return roles, methods


def assign_roles(
    circuit: Circuit | str,
    values: Mapping[str, float],
    *,
    cell_format: str | None = None,
    thickness_cm: float | None = None,
    area_cm2: float | None = None,
    given: Mapping[str, str] | None = None,
) -> RoleAssignment:
    """Roles of every element of a fitted circuit (see the module docstring for the rules).

    :param values: fitted values by parameter display name.
    :param cell_format: the cell's format (``blocking_pellet``, ``symmetric``, ``half``, ``full``...); None is
        read as a pellet.
    :param thickness_cm: electrolyte thickness ``L`` (pellets: with ``area_cm2``, for ``c = C_eff L / A``).
    :param area_cm2: electrode area ``A``.
    :param given: roles given by the user (element -> role); they win. Elements not in the circuit are noted.
    """
    if isinstance(circuit, str):
        circuit = Circuit(circuit)
    pellet = cell_format in (None, *PELLET_FORMATS)
    blocks = circuit_blocks(circuit)
    arcs = []
    for kind, item in blocks:
        if kind != 'arc':
            continue
        entry: dict[str, Any] = {
            'resistor': item.resistor,
            'capacitor': item.capacitor,
            'resistance_ohm': float(values[item.resistor]),
            'effective_capacitance_f': item.effective_capacitance_f(values),
            'characteristic_frequency_hz': item.characteristic_frequency_hz(values),
        }
        if area_cm2:
            entry['capacitance_per_area_f_cm2'] = entry['effective_capacitance_f'] / area_cm2
            if thickness_cm:
                entry['specific_capacitance_f_cm'] = entry['effective_capacitance_f'] * thickness_cm / area_cm2
        arcs.append(entry)
    by_frequency = sorted(arcs, key=lambda a: -a['characteristic_frequency_hz'])
    geometry = bool(thickness_cm and area_cm2)
    if pellet:
        roles, methods = _assign_pellet(by_frequency, geometry)
    else:
        roles, methods = _assign_cell(by_frequency, cell_format)
    for arc in arcs:
        arc['role'] = roles[arc['resistor']]
        roles[arc['capacitor']] = roles[arc['resistor']]
        methods[arc['capacitor']] = f'the capacitive element of {arc["resistor"]}'
    has_bulk_arc = 'bulk' in roles.values()
    for kind, item in blocks:
        if kind == 'series_r':
            if not pellet:
                roles[item], methods[item] = 'electrolyte', 'series resistance of a cell: the electrolyte'
            elif has_bulk_arc:
                roles[item], methods[item] = 'series', 'series resistance beside a bulk arc: leads and contacts'
            else:
                roles[item] = 'bulk'
                methods[item] = (
                    'series resistance of a pellet without a bulk arc: the bulk arc lies above the measured frequencies'
                )
        elif kind == 'inductor':
            roles[item], methods[item] = 'inductance', 'series inductor: leads and instrument'
        elif kind == 'tail':
            if item.kind.symbol in ('W', 'Wo', 'Ws'):
                roles[item.name], methods[item.name] = 'diffusion', 'series Warburg element: diffusion'
            else:
                roles[item.name] = 'electrode'
                methods[item.name] = 'series capacitive element: the (blocking) electrode response'
        elif kind == 'other':
            for element in item.elements():
                roles[element.name], methods[element.name] = 'unassigned', 'not a recognised block'
    notes: list[str] = []
    names = {e.name for e in circuit.elements}
    for element, role in (given or {}).items():
        if element not in names:
            notes.append(f'role {role!r} given for {element!r}, which is not an element of {circuit.spec}')
            continue
        roles[element], methods[element] = str(role), 'given by the user'
        for arc in arcs:
            if element in (arc['resistor'], arc['capacitor']):
                arc['role'] = str(role)
            if element == arc['resistor'] and arc['capacitor'] not in (given or {}):
                roles[arc['capacitor']] = str(role)
    ordered = {e.name: roles.get(e.name, 'unassigned') for e in circuit.elements}
    return RoleAssignment(ordered, {n: methods.get(n, 'not a recognised block') for n in ordered}, arcs, notes)
