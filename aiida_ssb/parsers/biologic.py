"""What the two BioLogic readers (``.mpt`` text, ``.mpr`` binary) share: technique names and codes,
EC-Lab column names, and the one function that turns EC-Lab columns into canonical ones.

Both readers hand their raw columns (EC-Lab names -> arrays) to :func:`canonicalise`, so a ``.mpr``
and its ``.mpt`` export give the same canonical columns by construction.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from aiida_ssb.parsers._common import UnitError, convert, integer_column
from aiida_ssb.parsers.base import KIND_OF_TECHNIQUE, ParseError, column_unit

__all__ = [
    'TECHNIQUE_BYTES',
    'canonicalise',
    'is_placeholder',
    'split_column_name',
    'technique_from_columns',
    'technique_from_name',
]

#: EC-Lab technique names (lower case, matched as prefixes) -> canonical code. Order matters:
#: longer names first.
TECHNIQUE_NAMES: tuple[tuple[str, str], ...] = (
    ('staircase potentio electrochemical impedance spectroscopy', 'peis'),
    ('staircase galvano electrochemical impedance spectroscopy', 'geis'),
    ('potentio electrochemical impedance spectroscopy', 'peis'),
    ('galvano electrochemical impedance spectroscopy', 'geis'),
    ('ir compensation', 'zir'),
    ('cyclic voltammetry advanced', 'cva'),
    ('cyclic voltammetry', 'cv'),
    ('linear sweep voltammetry', 'lsv'),
    ('galvanostatic cycling with potential limitation', 'gcpl'),
    ('modulo bat', 'mb'),
    ('chronopotentiometry', 'cp'),
    ('chronoamperometry', 'ca'),
    ('open circuit voltage', 'ocv'),
)

#: The technique byte at the start of an ``.mpr`` settings module -> (code, EC-Lab name). The byte
#: values are those documented by the yadg project (dgbowl/yadg, ``techniques.py``).
TECHNIQUE_BYTES: dict[int, tuple[str, str]] = {
    0x04: ('gcpl', 'Galvanostatic Cycling with Potential Limitation'),
    0x06: ('cv', 'Cyclic Voltammetry'),
    0x0B: ('ocv', 'Open Circuit Voltage'),
    0x18: ('ca', 'Chronoamperometry / Chronocoulometry'),
    0x19: ('cp', 'Chronopotentiometry'),
    0x1C: ('wait', 'Wait'),
    0x1D: ('peis', 'Potentio Electrochemical Impedance Spectroscopy'),
    0x1E: ('geis', 'Galvano Electrochemical Impedance Spectroscopy'),
    0x30: ('cv', 'Cyclic Voltammetry'),
    0x32: ('zir', 'IR compensation (PEIS)'),
    0x33: ('cva', 'Cyclic Voltammetry Advanced'),
    0x6C: ('lsv', 'Linear Sweep Voltammetry'),
    0x77: ('gcpl', 'Galvanostatic Cycling with Potential Limitation'),
    0x7F: ('mb', 'Modulo Bat'),
}

#: EC-Lab writes 0.001 in unset cell-characteristic fields (area, masses, molecular weight).
EC_LAB_PLACEHOLDER = 0.001


def is_placeholder(value: float | None) -> bool:
    """True for EC-Lab's "not set" value 0.001 (also its float32 rounding in ``.mpr`` files)."""
    return value is not None and abs(value - EC_LAB_PLACEHOLDER) <= 1e-9


def technique_from_name(line: str) -> str | None:
    """The canonical code of an EC-Lab technique name as it heads a ``.mpt`` header, or None."""
    name = ' '.join(line.strip().lower().split())
    if name == 'wait':
        return 'wait'
    for prefix, code in TECHNIQUE_NAMES:
        if name.startswith(prefix):
            return code
    return None


def split_column_name(name: str) -> tuple[str, str]:
    """``'Ewe/V'`` -> ``('Ewe', 'V')``; ``'Q charge/discharge/mA.h'`` -> ``('Q charge/discharge', 'mA.h')``;
    ``'cycle number'`` -> ``('cycle number', '')``. The unit is what follows the last slash."""
    cleaned = name.strip()
    if cleaned == 'control/V/mA':
        return 'control/V/mA', ''
    if '/' not in cleaned:
        return cleaned, ''
    quantity, unit = cleaned.rsplit('/', 1)
    return quantity.strip(), unit.strip()


def technique_from_columns(names: list[str] | set[str]) -> str | None:
    """A best guess of the technique of a headerless export from its EC-Lab column names.

    Impedance records cannot tell PEIS from GEIS by their columns, so they are ``'eis'``; a record
    with current but no set-point column is ``'wait'``, without current ``'ocv'``.
    """
    names = set(names)
    quantities = {split_column_name(name)[0] for name in names}
    has_impedance = 'freq' in quantities and bool({'Re(Z)', '|Z|'} & quantities)
    if has_impedance and 'half cycle' not in quantities and 'control/V/mA' not in names:
        return 'eis'
    if 'control/V/mA' in names:
        return 'mb' if has_impedance else 'gcpl'
    if has_impedance:
        return 'mb'
    if 'control/mA' in names:
        return 'cp'
    if 'control/V' in names:
        if 'half cycle' in quantities or 'Ns' in quantities:
            return 'ca'
        if 'cycle number' in quantities:
            return 'cv'
        return 'lsv'
    if quantities & {'Ewe', '<Ewe>', 'Ecell', '<Ecell>'}:
        return 'wait' if quantities & {'I', '<I>'} else 'ocv'
    return None


# quantity (EC-Lab name without unit) -> canonical column, in order of preference per target. EC-Lab names a
# column differently by version and by file: ``Energy charge`` (older exports, and galvani's name for column 123
# of an .mpr) is ``Energy we charge`` in newer exports, ``P`` is ``Pwe``, ``R`` is ``Rwe``.
_PHYSICAL: tuple[tuple[str, str], ...] = (
    ('time', 'time_s'),
    ('step time', 'step_time_s'),
    ('Ece', 'counter_voltage_v'),
    ('<Ece>', 'counter_voltage_v'),
    ('<Ecv>', 'counter_voltage_v'),  # galvani's name for column 441, which EC-Lab exports as <Ece>/V
    ('Ewe-Ece', 'cell_voltage_v'),
    ('<Ewe-Ece>', 'cell_voltage_v'),
    ('(Q-Qo)', 'charge_mah'),
    ('Q charge', 'charge_capacity_mah'),
    ('Q discharge', 'discharge_capacity_mah'),
    ('Capacity', 'capacity_mah'),
    ('Energy charge', 'charge_energy_mwh'),
    ('Energy we charge', 'charge_energy_mwh'),
    ('Energy discharge', 'discharge_energy_mwh'),
    ('Energy we discharge', 'discharge_energy_mwh'),
    ('Energy ce charge', 'counter_charge_energy_mwh'),
    ('Energy ce discharge', 'counter_discharge_energy_mwh'),
    ('Energy we-ce charge', 'cell_charge_energy_mwh'),
    ('Energy we-ce discharge', 'cell_discharge_energy_mwh'),
    ('Energy we-ce dischage', 'cell_discharge_energy_mwh'),  # spelled so by some EC-Lab versions
    ('Energy we', 'energy_mwh'),
    ('Energy ce', 'counter_energy_mwh'),
    ('Energy we-ce', 'cell_energy_mwh'),
    ('|Energy|', 'energy_throughput_mwh'),
    ('P', 'power_mw'),
    ('Pwe', 'power_mw'),
    ('Pce', 'counter_power_mw'),
    ('Pwe-ce', 'cell_power_mw'),
    ('R', 'resistance_ohm'),
    ('Rwe', 'resistance_ohm'),
    ('Rce', 'counter_resistance_ohm'),
    ('Rwe-ce', 'cell_resistance_ohm'),
    ('Capacitance charge', 'charge_capacitance_uf'),
    ('Capacitance discharge', 'discharge_capacitance_uf'),
    ('x', 'intercalation_x'),
    ('freq', 'frequency_hz'),
    ('Re(Z)', 'z_real_ohm'),
    ('|Z|', 'z_mod_ohm'),
    ('Phase(Z)', 'z_phase_deg'),
    ('Temperature', 'temperature_c'),
)
_COUNTERS: tuple[tuple[str, str], ...] = (
    ('cycle number', 'cycle_index'),
    ('half cycle', 'half_cycle_index'),
    ('Ns', 'step_index'),
    ('mode', 'control_mode'),
)
#: EC-Lab columns holding whole numbers (flags and counters): a row whose values here are fractions has moved
INTEGER_QUANTITIES = frozenset(
    {
        'mode',
        'ox/red',
        'error',
        'control changes',
        'Ns changes',
        'counter inc.',
        'Ns',
        'half cycle',
        'z cycle',
        'I Range',
    }
)
_OTHER_USED = frozenset(
    {'Ewe', 'Ecell', '<Ewe>', '<Ecell>', 'I', '<I>', '-Im(Z)', 'Im(Z)', 'control/V/mA', 'control', 'dq', 'dQ',
     'Q charge/discharge'}
)  # fmt: skip
_IMPEDANCE_COLUMNS = ('frequency_hz', 'z_real_ohm', 'z_imag_ohm', 'z_mod_ohm', 'z_phase_deg')


def used_columns(names: list[str]) -> list[int]:
    """Positions of the EC-Lab columns :func:`canonicalise` can use (a reader need not convert the others)."""
    quantities = {quantity for quantity, _ in _PHYSICAL} | {quantity for quantity, _ in _COUNTERS} | _OTHER_USED
    used = []
    for position, name in enumerate(names):
        quantity = name if name == 'control/V/mA' else split_column_name(name)[0]
        if quantity in quantities:
            used.append(position)
    return used


def integer_columns(names: list[str]) -> list[int]:
    """Positions of EC-Lab's whole-number columns (flags, counters)."""
    return [position for position, name in enumerate(names) if split_column_name(name)[0] in INTEGER_QUANTITIES]


def canonicalise(
    path: str | os.PathLike[str] | None,
    raw: Mapping[str, np.ndarray],
    technique: str,
    *,
    keep_dc_rows: bool = False,
    loop_starts: np.ndarray | None = None,
    owned: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """EC-Lab columns (their own names -> arrays) -> canonical columns and notes for the metadata.

    * units are converted to the canonical ones (W.h -> mWh, C -> mAh, A -> mA ...);
    * ``-Im(Z)`` becomes ``z_imag_ohm`` with the sign flipped;
    * averaged quantities (``<Ewe>``, ``<I>``) are used where the instantaneous ones are absent; in
      impedance records they are the DC values (``dc_voltage_v``, ``dc_current_ma``);
    * derived where the file lacks them, with the rule recorded under ``derived_columns``:
      ``current_ma`` from ``dq`` over the time step, charge/discharge capacity from
      ``Q charge/discharge``, ``cycle_index`` from ``half cycle`` (EC-Lab's ``half // 2``),
      ``z_real_ohm``/``z_imag_ohm`` from ``|Z|`` and ``Phase(Z)``, set points from ``control/V/mA``
      and ``mode``;
    * impedance rows with frequency 0 (DC points EC-Lab records before a sweep) are dropped from
      impedance records (``keep_dc_rows=True`` keeps them, with NaN impedance) and get NaN impedance
      in other records;
    * the same quantity under the names of different EC-Lab versions (``Energy charge``/``Energy we charge``,
      ``P``/``Pwe``) gives one column, so an ``.mpt`` and its ``.mpr`` twin give the same columns; where one of
      them lacks a column the other has, it is derived when EC-Lab's own rule is known (``Ewe-Ece`` from
      ``Ewe`` and ``Ece`` and back, ``P`` = ``Ewe`` x ``I``).

    :param owned: the caller hands over ``raw`` (float64 arrays nobody else uses): units are converted in place,
        without a second copy of every column (large records).
    """
    kind = KIND_OF_TECHNIQUE[technique]
    entries: dict[str, tuple[str, str, np.ndarray]] = {}
    for name, values in raw.items():
        quantity, unit = split_column_name(name)
        entries.setdefault(quantity, (name, unit, values))
    columns: dict[str, np.ndarray] = {}
    derived: dict[str, str] = {}
    used: list[str] = []

    def take(quantity: str, canonical: str, sign: float = 1.0) -> bool:
        entry = entries.get(quantity)
        if entry is None or canonical in columns:
            return False
        name, unit, values = entry
        try:
            converted = convert(values, unit, column_unit(canonical), copy=not owned)
        except UnitError as exc:
            raise ParseError(path, f'column {name!r}: {exc}') from None
        if sign < 0:
            np.negative(converted, out=converted)
        columns[canonical] = converted
        used.append(name)
        return True

    for quantity, canonical in _PHYSICAL:
        take(quantity, canonical)
    voltage = 'dc_voltage_v' if kind == 'eis' else 'voltage_v'
    current = 'dc_current_ma' if kind == 'eis' else 'current_ma'
    for quantity in ('Ewe', 'Ecell', '<Ewe>', '<Ecell>'):
        if take(quantity, voltage):
            break
    for quantity in ('I', '<I>'):
        if take(quantity, current):
            break
    if not take('-Im(Z)', 'z_imag_ohm', sign=-1.0):
        take('Im(Z)', 'z_imag_ohm')
    for quantity, canonical in _COUNTERS:
        entry = entries.get(quantity)
        if entry is not None:
            columns[canonical] = integer_column(path, entry[0], entry[2])
            used.append(entry[0])

    n_rows = _row_count(raw)
    _set_points(path, entries, columns, derived, used)
    if current not in columns and 'time_s' in columns:
        for quantity in ('dq', 'dQ'):
            entry = entries.get(quantity)
            if entry is None:
                continue
            try:
                increment = convert(entry[2], entry[1], 'mAh', copy=not owned)
            except UnitError as exc:
                raise ParseError(path, f'column {entry[0]!r}: {exc}') from None
            columns[current] = _current_from_increments(increment, columns['time_s'])
            derived[current] = f'{entry[0]} divided by the time step (the mean current since the previous point)'
            break
    entry = entries.get('Q charge/discharge')
    if entry is not None:
        try:
            signed = convert(entry[2], entry[1], 'mAh')
        except UnitError as exc:
            raise ParseError(path, f'column {entry[0]!r}: {exc}') from None
        if 'charge_capacity_mah' not in columns:
            columns['charge_capacity_mah'] = np.maximum(signed, 0.0)
            derived['charge_capacity_mah'] = f'positive part of {entry[0]}'
        if 'discharge_capacity_mah' not in columns:
            columns['discharge_capacity_mah'] = np.maximum(-signed, 0.0)
            derived['discharge_capacity_mah'] = f'negative part of {entry[0]}, sign flipped'
        if 'capacity_mah' not in columns:
            columns['capacity_mah'] = np.abs(signed)
            derived['capacity_mah'] = f'|{entry[0]}| (EC-Lab Capacity)'
    _derive_electrode_columns(columns, derived, voltage, current)
    if 'cycle_index' not in columns and 'half_cycle_index' in columns:
        columns['cycle_index'] = columns['half_cycle_index'] // 2
        derived['cycle_index'] = "half cycle // 2 (EC-Lab's own rule)"
    if 'z_mod_ohm' in columns and 'z_phase_deg' in columns:
        phase = np.deg2rad(columns['z_phase_deg'])
        if 'z_real_ohm' not in columns:
            columns['z_real_ohm'] = columns['z_mod_ohm'] * np.cos(phase)
            derived['z_real_ohm'] = '|Z| cos(Phase(Z))'
        if 'z_imag_ohm' not in columns:
            columns['z_imag_ohm'] = columns['z_mod_ohm'] * np.sin(phase)
            derived['z_imag_ohm'] = '|Z| sin(Phase(Z))'
    if loop_starts is not None and len(loop_starts) > 1 and n_rows:
        starts = np.asarray(loop_starts, dtype=np.int64)
        columns['loop_index'] = np.searchsorted(starts, np.arange(n_rows), side='right').astype(np.int64) - 1
        np.maximum(columns['loop_index'], 0, out=columns['loop_index'])

    notes: dict[str, Any] = {}
    if derived:
        notes['derived_columns'] = derived
    if 'frequency_hz' in columns and n_rows:
        dc = columns['frequency_hz'] == 0
        if dc.any():
            if kind == 'eis' and not keep_dc_rows:
                keep = ~dc
                columns = {name: values[keep] for name, values in columns.items()}
                notes['dropped_dc_rows'] = int(dc.sum())
            else:
                for name in _IMPEDANCE_COLUMNS:
                    if name in columns:
                        values = columns[name].astype(np.float64, copy=True)
                        values[dc] = np.nan
                        columns[name] = values
                notes['dc_rows'] = int(dc.sum())
    notes['mapped_columns'] = used
    return columns, notes


def _derive_electrode_columns(
    columns: dict[str, np.ndarray], derived: dict[str, str], voltage: str, current: str
) -> None:
    """EC-Lab's rules between working, counter and cell quantities, for the columns a file lacks."""
    if voltage != 'voltage_v':
        return  # impedance records: the DC values are means over a sweep point, not instantaneous
    if 'cell_voltage_v' not in columns and 'voltage_v' in columns and 'counter_voltage_v' in columns:
        columns['cell_voltage_v'] = columns['voltage_v'] - columns['counter_voltage_v']
        derived['cell_voltage_v'] = 'Ewe - Ece'
    if 'counter_voltage_v' not in columns and 'voltage_v' in columns and 'cell_voltage_v' in columns:
        columns['counter_voltage_v'] = columns['voltage_v'] - columns['cell_voltage_v']
        derived['counter_voltage_v'] = 'Ewe - (Ewe-Ece)'
    if 'power_mw' not in columns and 'voltage_v' in columns and current in columns and current not in derived:
        columns['power_mw'] = columns['voltage_v'] * columns[current]
        derived['power_mw'] = 'Ewe x I (EC-Lab P)'


def intercalation_x(
    charge_mah: np.ndarray,
    *,
    active_mass_mg: float,
    molecular_weight_g_mol: float,
    ion_weight_g_mol: float,
    weight_at_x: float,
    x_start: float,
    electrons: int,
) -> np.ndarray:
    """EC-Lab's ``x`` from the charge passed: ``x = x0 - (Q-Qo) / DQ``, where ``DQ`` (the charge of one x, as
    the export header's "for DX = 1, DQ = ..." states) is ``m F n / (M + x_M A) / 3.6`` mAh (``m`` the active
    mass in g, ``M`` the molecular weight given at ``x = x_M``, ``A`` the atomic weight of the intercalated ion,
    ``n`` electrons per ion). Checked against the ``x`` of an EC-Lab export of the same record."""
    faraday = 96485.33212
    dq_mah = (
        active_mass_mg * 1e-3 * faraday * electrons / (molecular_weight_g_mol + weight_at_x * ion_weight_g_mol) / 3.6
    )
    return x_start - np.asarray(charge_mah, dtype=np.float64) / dq_mah


def _row_count(raw: Mapping[str, np.ndarray]) -> int:
    for values in raw.values():
        return int(np.asarray(values).shape[0])
    return 0


def _current_from_increments(increment_mah: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Mean current since the previous point, in mA: increment (mAh) / time step (h). The first
    row (no previous point) and rows without a positive time step are NaN."""
    current = np.empty(increment_mah.shape)
    if current.size == 0:
        return current
    current[0] = np.nan
    if current.size > 1:
        step_s = np.subtract(time_s[1:], time_s[:-1])
        with np.errstate(divide='ignore', invalid='ignore'):
            np.divide(increment_mah[1:], step_s, out=current[1:])
        current[1:] *= 3600.0
        bad = ~(step_s > 0)
        if bad.any():
            current[1:][bad] = np.nan
    return current


def _set_points(
    path: str | os.PathLike[str] | None,
    entries: dict[str, tuple[str, str, np.ndarray]],
    columns: dict[str, np.ndarray],
    derived: dict[str, str],
    used: list[str],
) -> None:
    """``control/V/mA`` is a set-point current in galvanostatic rows (mode 1) and a set-point
    potential in potentiostatic rows (mode 2); elsewhere (rest) it is not a set point (NaN)."""
    entry = entries.get('control/V/mA')
    if entry is not None:
        used.append(entry[0])
        if 'control_mode' in columns:
            values = np.asarray(entry[2], dtype=np.float64)
            mode = columns['control_mode']
            for wanted, name in ((1, 'control_current_ma'), (2, 'control_voltage_v')):
                rows = mode == wanted
                if rows.any():
                    columns[name] = np.where(rows, values, np.nan)
                    derived[name] = f'{entry[0]} where mode == {wanted}'
        return
    for unit_target, name in (('V', 'control_voltage_v'), ('mA', 'control_current_ma')):
        candidate = entries.get('control')
        if candidate is None:
            continue
        column_name, unit, values = candidate
        try:
            columns[name] = convert(values, unit, unit_target)
        except UnitError:
            continue
        used.append(column_name)
        break
