"""Technique settings: what the instrument was told to do, as a validated structure with units.

A record's settings (EC-Lab's settings block of an ``.mpt`` header; a cycler's step table) become a
:class:`TechniqueSettings`: the technique, one :class:`SequenceSettings` per sequence (EC-Lab's ``Ns``; a
cycler's step) with its control (current, potential, rest, impedance, sweep, loop), set point, C-rate, limits,
duration and repetitions, every number in the unit its field name ends with. The vendor's own text is kept
beside it (``raw``). Unknown values are absent, never 0 (EC-Lab's ``pass`` is "no limit").

:meth:`TechniqueSettings.summary` flattens it into the few numbers a user queries ("all GCPL at C/10 with a
4.15 V limit": ``technique``, ``set_current_ma``, ``c_rate``, ``upper_voltage_limit_v``,
``lower_voltage_limit_v``...); :func:`cross_check` compares the set points with what was recorded and returns
flags (a GCPL whose measured current differs from its set point beyond tolerance).

Pure: pydantic and numpy, no AiiDA.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from aiida_ssb.parsers._common import UnitError, linear_conversion, parse_duration

__all__ = [
    'SETTINGS_FIELDS',
    'SequenceSettings',
    'TechniqueSettings',
    'cross_check',
    'settings_from_ec_lab',
]

Control = Literal['current', 'c_rate', 'potential', 'rest', 'impedance', 'sweep', 'loop', 'other']


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra='forbid')

    @field_validator('*', mode='after')
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError('must be a finite number')
        return value


class SequenceSettings(_Model):
    """One sequence (EC-Lab ``Ns``) or cycler step: its control and limits."""

    index: int = Field(ge=0, description='0-based sequence number (EC-Lab Ns, a cycler step index)')
    control: Control = Field(description='what the instrument controls in this sequence')
    label: str | None = Field(None, description="the vendor's name of the sequence (CC, CV, Rest, PEIS, Loop...)")
    set_current_ma: float | None = Field(None, description='set-point current (signed: positive on charge)')
    c_rate: float | None = Field(None, gt=0, description='set current as a C-rate (C/N: 1/N), where set so')
    set_potential_v: float | None = Field(None, description='set-point potential')
    upper_voltage_limit_v: float | None = Field(None, description='potential the sequence stops at, rising')
    lower_voltage_limit_v: float | None = Field(None, description='potential the sequence stops at, falling')
    duration_s: float | None = Field(None, ge=0, description='time limit of the sequence')
    scan_rate_mv_s: float | None = Field(None, description='sweep rate (CV, LSV)')
    frequency_start_hz: float | None = Field(None, gt=0)
    frequency_end_hz: float | None = Field(None, gt=0)
    amplitude_mv: float | None = Field(None, ge=0, description='potential amplitude of an impedance sweep')
    amplitude_ma: float | None = Field(None, ge=0, description='current amplitude of a galvanostatic sweep')
    repeat: int | None = Field(None, ge=0, description='how often a loop repeats, or cycles of a sequence')


class TechniqueSettings(_Model):
    """The settings of one record."""

    technique: str = Field(description='technique code, as the measurement (gcpl, mb, peis...)')
    source: str = Field(description='where they were read: ".mpt settings block", "cycler step table"...')
    sequences: tuple[SequenceSettings, ...] = ()
    raw: dict[str, Any] = Field(default_factory=dict, description="the vendor's keys and values, as written")

    def summary(self) -> dict[str, Any]:
        """The queryable numbers (absent when not set): technique, sequences, the largest set current and its
        C-rate, the highest upper and lowest lower voltage limit, set potentials, scan rate, frequency range."""
        summary: dict[str, Any] = {'technique': self.technique, 'n_sequences': len(self.sequences)}
        controls = sorted({sequence.control for sequence in self.sequences})
        if controls:
            summary['controls'] = ','.join(controls)
        currents = [s.set_current_ma for s in self.sequences if s.set_current_ma is not None and s.set_current_ma]
        if currents:
            summary['set_current_ma'] = max(currents, key=abs)
            summary['max_abs_set_current_ma'] = max(abs(value) for value in currents)
        rates = [s.c_rate for s in self.sequences if s.c_rate is not None]
        if rates:
            summary['c_rate'] = max(rates)
        upper = [s.upper_voltage_limit_v for s in self.sequences if s.upper_voltage_limit_v is not None]
        if upper:
            summary['upper_voltage_limit_v'] = max(upper)
        lower = [s.lower_voltage_limit_v for s in self.sequences if s.lower_voltage_limit_v is not None]
        if lower:
            summary['lower_voltage_limit_v'] = min(lower)
        potentials = [s.set_potential_v for s in self.sequences if s.set_potential_v is not None]
        if potentials:
            summary['max_set_potential_v'] = max(potentials)
            summary['min_set_potential_v'] = min(potentials)
        for name in ('scan_rate_mv_s', 'amplitude_mv', 'amplitude_ma'):
            values = [getattr(s, name) for s in self.sequences if getattr(s, name) is not None]
            if values:
                summary[name] = values[0]
        starts = [s.frequency_start_hz for s in self.sequences if s.frequency_start_hz is not None]
        ends = [s.frequency_end_hz for s in self.sequences if s.frequency_end_hz is not None]
        if starts or ends:
            summary['max_frequency_hz'] = max(starts + ends)
            summary['min_frequency_hz'] = min(starts + ends)
        return summary

    def stored(self) -> dict[str, Any]:
        """JSON for the measurement node's attributes (sequences without their unset fields)."""
        data = self.model_dump(exclude_none=True)
        data['sequences'] = [sequence.model_dump(exclude_none=True) for sequence in self.sequences]
        return data


#: summary field -> description (the queryable settings fields, ``settings.FIELD`` in the CLI)
SETTINGS_FIELDS: dict[str, str] = {
    'technique': 'technique code of the record (gcpl, mb, peis, cv...)',
    'n_sequences': 'number of sequences (EC-Lab Ns) or steps',
    'controls': 'the controls used, comma separated (current, c_rate, potential, rest, impedance, sweep, loop)',
    'set_current_ma': 'set current of largest magnitude (signed)',
    'max_abs_set_current_ma': 'largest magnitude of a set current',
    'c_rate': 'highest C-rate set (C/N: 1/N)',
    'upper_voltage_limit_v': 'highest upper voltage limit',
    'lower_voltage_limit_v': 'lowest lower voltage limit',
    'max_set_potential_v': 'highest set potential',
    'min_set_potential_v': 'lowest set potential',
    'scan_rate_mv_s': 'sweep rate',
    'amplitude_mv': 'potential amplitude of an impedance sweep',
    'amplitude_ma': 'current amplitude of a galvanostatic impedance sweep',
    'max_frequency_hz': 'highest frequency of an impedance sweep',
    'min_frequency_hz': 'lowest frequency of an impedance sweep',
}


# ---------------------------------------------------------------------------------------------- EC-Lab
def _number(text: Any) -> float | None:
    if text is None:
        return None
    cleaned = str(text).strip().replace(',', '.')
    if not cleaned or cleaned.lower() in ('pass', 'unset', '<none>', 'none'):
        return None
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _with_unit(value: float | None, unit: str | None, target: str) -> float | None:
    if value is None:
        return None
    if not unit:
        return value
    try:
        scale, offset = linear_conversion(unit.strip(), target)
    except UnitError:
        return None
    return value * scale + offset


def _seconds(text: Any) -> float | None:
    if text is None:
        return None
    seconds = parse_duration(str(text))
    if seconds is not None:
        return seconds
    return _number(text)


_KEY_UNIT = re.compile(r'^(.*?)\s*\(([^)]*)\)\s*$')


def _get(block: dict[str, Any], index: int, *keys: str) -> str | None:
    for key in keys:
        if key in block:
            value = block[key]
            if isinstance(value, list):
                return str(value[index]) if index < len(value) and value[index] is not None else None
            return None if value is None else str(value)
    return None


def settings_from_ec_lab(technique: str, block: dict[str, Any]) -> TechniqueSettings | None:
    """The settings of an EC-Lab ``.mpt`` header (the parsed block: key -> text, or a list per sequence)."""
    if not block:
        return None
    sequences_count = max((len(value) for value in block.values() if isinstance(value, list)), default=1)
    sequences = []
    for index in range(sequences_count):
        sequence = _ec_lab_sequence(technique, block, index)
        if sequence is not None:
            sequences.append(sequence)
    return TechniqueSettings(technique=technique, source='.mpt settings block', sequences=tuple(sequences), raw=block)


def _ec_lab_sequence(technique: str, block: dict[str, Any], index: int) -> SequenceSettings | None:
    def get(*keys: str) -> str | None:
        return _get(block, index, *keys)

    if technique == 'mb' or 'ctrl_type' in block:
        return _modulo_bat_sequence(block, index)
    values: dict[str, Any] = {'index': index}
    if technique in ('gcpl', 'cp'):
        by_rate = (get('Set I/C') or 'I').strip().upper().startswith('C')
        current = _with_unit(_number(get('Is')), get('unit Is'), 'mA')
        sign = (get('I sign') or '').strip()
        if current is not None and sign.startswith('<'):
            current = -abs(current)
        if by_rate:
            n = _number(get('N'))
            values['control'] = 'c_rate'
            if n:
                values['c_rate'] = 1.0 / n
        else:
            values['control'] = 'current'
        if current is not None and not by_rate:
            values['set_current_ma'] = current
        limit = _number(get('EM (V)'))
        direction = current if current is not None else (-1.0 if sign.startswith('<') else 1.0)
        if limit is not None and current != 0:  # a zero-current sequence has no potential limit to reach
            values['upper_voltage_limit_v' if direction >= 0 else 'lower_voltage_limit_v'] = limit
        values['duration_s'] = _seconds(get('t1 (h:m:s)', 'ts (h:m:s)')) or None  # 0: no time limit
        values['repeat'] = _int(get('nc cycles'))
    elif technique in ('ca', 'ocv', 'wait'):
        values['control'] = 'potential' if technique == 'ca' else 'rest'
        if _absolute(block, 'Ei (V)') or _absolute(block, 'E (V)'):
            values['set_potential_v'] = _number(get('Ei (V)', 'E (V)'))
        values['duration_s'] = _seconds(get('ti (h:m:s)', 'tR (h:m:s)', 'tw (h:m:s)')) or None
        values['repeat'] = _int(get('nc cycles'))
    elif technique in ('cv', 'cva', 'lsv'):
        values['control'] = 'sweep'
        rate = _number(get('dE/dt'))
        values['scan_rate_mv_s'] = _with_unit(rate, get('dE/dt unit'), 'mV/s') if rate is not None else None
        # a potential set "vs. Eoc" (or vs. Ei) is relative to a value not known here: not a limit
        numbers = [
            _number(get(key)) for key in ('Ei (V)', 'E1 (V)', 'E2 (V)', 'Ef (V)', 'EL (V)') if _absolute(block, key)
        ]
        potentials = [value for value in numbers if value is not None]
        if potentials:
            values['upper_voltage_limit_v'] = max(potentials)
            values['lower_voltage_limit_v'] = min(potentials)
        values['repeat'] = _int(get('nc cycles'))
    elif technique in ('peis', 'geis', 'zir', 'eis'):
        values['control'] = 'impedance'
        values['frequency_start_hz'] = _with_unit(_number(get('fi', 'f')), get('unit fi', 'unit f'), 'Hz')
        values['frequency_end_hz'] = _with_unit(_number(get('ff', 'f')), get('unit ff', 'unit f'), 'Hz')
        if technique == 'geis':
            values['set_current_ma'] = _with_unit(_number(get('Is')), get('unit Is'), 'mA')
            values['amplitude_ma'] = _with_unit(_number(get('Ia')), get('unit  Ia', 'unit Ia'), 'mA')
        else:
            if _absolute(block, 'E (V)'):
                values['set_potential_v'] = _number(get('E (V)'))
            values['amplitude_mv'] = _number(get('Va (mV)'))
    else:
        values['control'] = 'other'
    return SequenceSettings(**{key: value for key, value in values.items() if value is not None})


_MB_CONTROLS = {
    'rest': 'rest',
    'cc': 'current',
    'cv': 'potential',
    'cp': 'current',
    'ca': 'potential',
    'peis': 'impedance',
    'geis': 'impedance',
    'loop': 'loop',
    'cv scan': 'sweep',
    'ocv': 'rest',
}


def _modulo_bat_sequence(block: dict[str, Any], index: int) -> SequenceSettings | None:
    def get(key: str) -> str | None:
        return _get(block, index, key)

    label = (get('ctrl_type') or '').strip()
    if not label:
        return None
    control = _MB_CONTROLS.get(label.lower(), 'other')
    values: dict[str, Any] = {'index': index, 'label': label, 'control': control}
    value, unit = _number(get('ctrl1_val')), (get('ctrl1_val_unit') or '').strip()
    by_rate = (get('Apply I/C') or 'I').strip().upper().startswith('C')
    charge = (get('charge/discharge') or '').strip().lower()
    if control == 'current':
        if by_rate:
            values['control'] = 'c_rate'
            n = _number(get('N'))
            if n:
                values['c_rate'] = 1.0 / n
        else:
            current = _with_unit(value, unit, 'mA')
            if current is not None and charge == 'discharge':
                current = -abs(current)
            values['set_current_ma'] = current
    elif control == 'potential':
        values['set_potential_v'] = _with_unit(value, unit or 'V', 'V')
    elif control == 'impedance':
        if label.lower() == 'peis':
            values['amplitude_mv'] = _with_unit(value, unit, 'mV')
        else:
            values['amplitude_ma'] = _with_unit(value, unit, 'mA')
        values['frequency_start_hz'] = _with_unit(_number(get('ctrl2_val')), get('ctrl2_val_unit'), 'Hz')
        values['frequency_end_hz'] = _with_unit(_number(get('ctrl3_val')), get('ctrl3_val_unit'), 'Hz')
    elif control == 'loop':
        values['repeat'] = _int(get('ctrl_repeat'))
    count = _int(get('lim_nb')) or 0
    for number in range(1, count + 1):
        kind = (get(f'lim{number}_type') or '').strip()
        comparison = (get(f'lim{number}_comp') or '').strip()
        limit = _number(get(f'lim{number}_value'))
        unit = (get(f'lim{number}_value_unit') or '').strip()
        if limit is None:
            continue
        if kind == 'Time' and comparison == '>':
            values['duration_s'] = _with_unit(limit, unit, 's') or None
        elif kind in ('Ewe', 'Ecell', 'Ece', 'Ewe-Ece'):
            volts = _with_unit(limit, unit or 'V', 'V')
            if volts is not None:
                values['upper_voltage_limit_v' if comparison == '>' else 'lower_voltage_limit_v'] = volts
    return SequenceSettings(**{key: value for key, value in values.items() if value is not None})


def _absolute(block: dict[str, Any], key: str) -> bool:
    """Whether a potential of the settings block is set against the reference electrode. EC-Lab writes a "vs."
    line after each potential; the block names a repeated key after the one before it (``E1 (V) vs.``)."""
    if key not in block:
        return False
    keys = list(block)
    following = keys[keys.index(key) + 1] if keys.index(key) + 1 < len(keys) else None
    reference = (
        block.get(f'{key} vs.') if f'{key} vs.' in block else (block.get(following) if following == 'vs.' else None)
    )
    if isinstance(reference, list):
        reference = reference[0]
    return reference is None or str(reference).strip().lower() in ('ref', '')


def _int(text: Any) -> int | None:
    value = _number(text)
    if value is None or value != round(value) or value < 0:
        return None
    return int(value)


# ---------------------------------------------------------------------------------------------- cross-check
def cross_check(
    settings: TechniqueSettings,
    columns: dict[str, np.ndarray],
    *,
    relative_tolerance: float = 0.05,
    absolute_tolerance_ma: float = 1e-4,
) -> list[dict[str, str]]:
    """Flags where the record disagrees with what the instrument was told.

    For each galvanostatic sequence with a set current, the median current recorded in that sequence (rows whose
    ``step_index`` is the sequence, under current control where the record says so) must agree with the set point
    within ``relative_tolerance`` (and ``absolute_tolerance_ma``). A record whose potential crosses a voltage limit
    by more than 2 % of the limit (or 20 mV) is flagged too. Nothing is flagged when the record cannot tell
    (no step counter, no current column).
    """
    flags: list[dict[str, str]] = []
    current = columns.get('current_ma')
    steps = columns.get('step_index')
    mode = columns.get('control_mode')
    if current is not None and steps is not None:
        for sequence in settings.sequences:
            if sequence.set_current_ma is None or sequence.set_current_ma == 0:
                continue
            rows = steps == sequence.index
            if mode is not None:
                rows &= mode == 1
            values = current[rows]
            values = values[np.isfinite(values)]
            if values.size < 3:
                continue
            measured = float(np.median(values))
            expected = sequence.set_current_ma
            if abs(measured - expected) > max(relative_tolerance * abs(expected), absolute_tolerance_ma):
                flags.append(
                    {
                        'flag': 'current_differs_from_set_point',
                        'reason': f'sequence {sequence.index}: median recorded current {measured:.6g} mA, set point '
                        f'{expected:.6g} mA (tolerance {relative_tolerance:.0%})',
                    }
                )
    voltage = columns.get('voltage_v')
    if voltage is not None and voltage.size:
        finite = voltage[np.isfinite(voltage)]
        summary = settings.summary()
        upper, lower = summary.get('upper_voltage_limit_v'), summary.get('lower_voltage_limit_v')
        if finite.size and upper is not None and float(finite.max()) > upper + max(0.02 * abs(upper), 0.02):
            flags.append(
                {
                    'flag': 'voltage_beyond_limit',
                    'reason': f'the potential reaches {float(finite.max()):.4g} V, above the {upper:.4g} V limit',
                }
            )
        if finite.size and lower is not None and float(finite.min()) < lower - max(0.02 * abs(lower), 0.02):
            flags.append(
                {
                    'flag': 'voltage_beyond_limit',
                    'reason': f'the potential reaches {float(finite.min()):.4g} V, below the {lower:.4g} V limit',
                }
            )
    return flags
