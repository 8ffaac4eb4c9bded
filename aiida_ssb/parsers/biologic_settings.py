"""The technique parameters of an EC-Lab ``.mpr`` settings module, as :class:`TechniqueSettings`.

The settings module stores, after the cell characteristics, the number of sequences (``u2``), the number of
parameters per sequence (``u2``) and then the sequences as packed records, at one of the offsets 0x0572,
0x1845, 0x1846 or 0x1847 (which one is not stated: the one whose parameter count matches a known layout of
the technique is taken). The record layouts per technique and EC-Lab version, and those offsets, are the
facts documented by the yadg project (dgbowl/yadg, ``extractors/eclab``); unit codes were checked against the
``.mpt`` exports of the same records (``tests/parsers/test_biologic.py``).

Read: GCPL, CP, CA, CV, LSV, OCV, PEIS, GEIS, ZIR, Wait. Not read (technique byte and cell characteristics
only): Modulo Bat and CVA, whose layouts vary more between versions than the shared files can check.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from aiida_ssb.parsers._common import UnitError, linear_conversion
from aiida_ssb.parsers.settings import SequenceSettings, TechniqueSettings

__all__ = ['mpr_settings']

_LIMITS = ' '.join(f'limit_type{i}:u1 limit_comp{i}:u1 limit_value{i}:f4 limit_unit{i}:u1' for i in range(1, 7))
_EIS_TAIL = (
    f'{_LIMITS} E_range_min:f4 E_range_max:f4 I_range:u1 bandwidth:u1 nc_cycles:u4 goto_Ns:u4 nr_cycles:u4 inc_cycle:u4'
)

# technique code -> record layouts (fields ``name:type``, packed, little-endian), tried by their field count
_LAYOUTS: dict[str, tuple[str, ...]] = {
    'ca': tuple(
        f'Ei:f4 Ei_vs:{vs} ti:f4 Imax:f4 Imax_unit:u1 Imin:f4 Imin_unit:u1 dQM:f4 dQM_unit:u1 record:u1 dI:f4 '
        'dI_unit:u1 dQ:f4 dQ_unit:u1 dt:f4 dta:f4 E_range_min:f4 E_range_max:f4 I_range:u1 I_range_min:u1 '
        'I_range_max:u1 I_range_init:u1 bandwidth:u1 goto_Ns:u4 nc_cycles:u4'
        for vs in ('u1', 'u4')
    ),
    'cp': tuple(
        f'Is:f4 Is_unit:u1 Is_vs:{vs} ts:f4 EM:f4 dQM:f4 dQM_unit:u1 record:u1 dEs:f4 dts:f4 E_range_min:f4 '
        'E_range_max:f4 I_range:u1 bandwidth:u1 goto_Ns:u4 nc_cycles:u4'
        for vs in ('u1', 'u4')
    ),
    'cv': (
        'Ei:f4 Ei_vs:u1 dE/dt:f4 dE/dt_unit:u1 E1:f4 E1_vs:u1 step_percent:u1 N:u4 E_range_min:f4 E_range_max:f4 '
        'I_range:u1 I_range_min:u1 I_range_max:u1 I_range_init:u1 bandwidth:u1 E2:f4 E2_vs:u1 nc_cycles:u4 '
        'reverse_scan:u1 Ef:f4 Ef_vs:u1',
    ),
    'lsv': (
        'tR:f4 dER/dt:f4 dER:f4 dtR:f4 dE/dt:f4 dE/dt_unit:u1 Ei:f4 Ei_vs:u1 EL:f4 EL_vs:u1 record:u1 dI:f4 '
        'dI_unit:u1 tI:f4 step_percent:u1 N:u4 E_range_min:f4 E_range_max:f4 I_range:u1 I_range_min:u1 '
        'I_range_max:u1 I_range_init:u1 bandwidth:u1',
    ),
    'gcpl': (
        'set_I/C:u1 Is:f4 Is_unit:u1 Is_vs:u1 N:f4 I_sign:u1 t1:f4 I_range:u1 bandwidth:u1 dE1:f4 dt1:f4 EM:f4 '
        'tM:f4 Im:f4 Im_unit:u1 dI/dt:f4 dI/dt_unit:u1 E_range_min:f4 E_range_max:f4 dq:f4 dq_unit:u1 dtq:f4 '
        'dQM:f4 dQM_unit:u1 dxM:f4 tR:f4 dER/dt:f4 dER:f4 dtR:f4 EL:f4 goto_Ns:u4 nc_cycles:u4',
        'set_I/C:u1 Is:f4 Is_unit:u1 Is_vs:u4 N:f4 I_sign:u4 t1:f4 I_range:u1 bandwidth:u1 dE1:f4 dt1:f4 EM:f4 '
        'tM:f4 Im:f4 Im_unit:u1 dI/dt:f4 dI/dt_unit:u1 E_range_min:f4 E_range_max:f4 dq:f4 dq_unit:u1 dtq:f4 '
        'dQM:f4 dQM_unit:u1 dxM:f4 delta_SoC:f4 tR:f4 dER/dt:f4 dER:f4 dtR:f4 EL:f4 goto_Ns:u4 nc_cycles:u4',
    ),
    'ocv': (
        'tR:f4 dER/dt:f4 record:u1 dER:f4 dtR:f4 E_range_min:f4 E_range_max:f4',
        'tR:f4 dER/dt:f4 dER:f4 dtR:f4 E_range_min:f4 E_range_max:f4',
    ),
    'peis': tuple(
        f'sine_mode:{mode} E:f4 E_vs:u1 tE:f4 record:u1 dI:f4 dI_unit:u1 dt:f4 fi:f4 fi_unit:u1 ff:f4 ff_unit:u1 '
        f'Nd:u4 points:u1 spacing:u1 Va:f4 pw:f4 Na:u4 corr:u1 lim_nb:u1 {_EIS_TAIL}'
        for mode in ('u1', 'u4')
    ),
    'geis': tuple(
        f'sine_mode:u1 Is:f4 Is_unit:u1 Is_vs:{vs} tIs:f4 record:u1 dE:f4 dt:f4 fi:f4 fi_unit:u1 ff:f4 ff_unit:u1 '
        f'Nd:u4 points:u1 spacing:u1 Ia/Va:u1 Ia:f4 Ia_unit:u1 va_pourcent:f4 pw:f4 Na:u4 corr:u1 lim_nb:u1 {_EIS_TAIL}'
        for vs in ('u1', 'u4')
    ),
    'zir': (
        'E:f4 E_vs:u1 f:f4 f_unit:u1 Va:f4 pw:f4 Na:u4 E_range_min:f4 E_range_max:f4 I_range:u1 bandwidth:u1 '
        'comp_level:u1 use_results:u1 comp_mode:u1',
    ),
    'wait': ('select:u1 td:u4 from:u1 tech_num:u1 ole_date:f4 ole_time:f4 record:u1 dE:f4 dI:f4 dI_unit:u1 dt:f4',),
}
_OFFSETS = (0x0572, 0x1845, 0x1846, 0x1847)
_TYPES = {'u1': 'u1', 'u2': '<u2', 'u4': '<u4', 'f4': '<f4'}
# unit codes (checked on the shared .mpt/.mpr twins where they occur)
_CURRENT_UNITS = {0: 'A', 1: 'mA', 2: 'µA', 3: 'nA', 4: 'pA'}
_FREQUENCY_UNITS = {0: 'MHz', 1: 'kHz', 2: 'Hz', 3: 'mHz', 4: 'µHz'}
_SCAN_UNITS = {1: 'mV/s'}
# EC-Lab's "vs." choice (0 Eoc, 2 Emeas or <None>, 4 Ref on the shared twins): only potentials against the
# reference are absolute
_VS_REFERENCE = {0: 'Eoc', 2: 'Emeas', 4: 'Ref'}


def _dtype(layout: str) -> np.dtype:
    return np.dtype([(field.split(':')[0], _TYPES[field.split(':')[1]]) for field in layout.split()])


def mpr_settings(technique: str, data: bytes) -> tuple[TechniqueSettings | None, list[dict[str, Any]]]:
    """The technique settings of a settings module's bytes, and the raw parameters (one dict per sequence).
    ``(None, [])`` for a technique whose layout is not known, or when no offset fits."""
    layouts = _LAYOUTS.get(technique)
    if not layouts:
        return None, []
    dtypes = [_dtype(layout) for layout in layouts]
    candidates = []
    for offset in _OFFSETS:
        if offset + 4 > len(data):
            continue
        sequences, count = struct.unpack_from('<HH', data, offset)
        if not 0 < sequences < 1000:
            continue
        for dtype in dtypes:
            names = dtype.names or ()
            if len(names) != count or offset + 4 + sequences * dtype.itemsize > len(data):
                continue
            records = np.frombuffer(data, dtype=dtype, count=sequences, offset=offset + 4)
            raw = [{name: record[name].item() for name in names} for record in records]
            candidates.append((_plausibility(raw), offset, raw))
    if not candidates:
        return None, []
    score, _, raw = max(candidates, key=lambda candidate: candidate[0])
    if score < 0:
        return None, []  # no layout reads sensible numbers (another EC-Lab version): not guessed
    try:
        sequences = tuple(_sequence(technique, index, values) for index, values in enumerate(raw))
    except ValueError:  # a value out of its range: the layout does not fit this file after all
        return None, []
    settings = TechniqueSettings(
        technique=technique,
        source='.mpr settings module',
        sequences=sequences,
        raw={'parameters': [{key: _plain(value) for key, value in values.items()} for values in raw]},
    )
    return settings, raw


def _plausibility(raw: list[dict[str, Any]]) -> int:
    """How sensible a reading is: unit and choice bytes are small, numbers are zero or of a magnitude a setting
    has (a misaligned layout reads denormals, huge values and large codes). Negative: not sensible."""
    score = 0
    for values in raw:
        for name, value in values.items():
            if isinstance(value, float):
                if not np.isfinite(value):
                    continue
                if value != 0 and not 1e-12 < abs(value) < 1e9:
                    return -1
                score += 1
            elif name.endswith(('_unit', '_vs')) and value > 16:
                return -1
    return score


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return float(f'{value:.7g}') if np.isfinite(value) else None
    return value


def _float(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return float(f'{value:.7g}') if np.isfinite(value) else None


def _scaled(value: Any, unit: str | None, target: str) -> float | None:
    number = _float(value)
    if number is None or unit is None:
        return None
    try:
        scale, offset = linear_conversion(unit, target)
    except UnitError:
        return None
    return float(f'{number * scale + offset:.7g}')


def _sequence(technique: str, index: int, p: dict[str, Any]) -> SequenceSettings:
    values: dict[str, Any] = {'index': index}

    def unit(table: dict[int, str], key: str) -> str | None:
        code = p.get(key)
        return table.get(int(code)) if isinstance(code, (int, float)) and float(code).is_integer() else None

    def vs_reference(key: str) -> bool:
        return unit(_VS_REFERENCE, key) == 'Ref'

    if technique in ('gcpl', 'cp'):
        by_rate = technique == 'gcpl' and p.get('set_I/C') == 1
        current = _scaled(p.get('Is'), unit(_CURRENT_UNITS, 'Is_unit'), 'mA')
        if technique == 'gcpl' and current is not None and p.get('I_sign') == 1:
            current = -abs(current)
        if by_rate:
            values['control'] = 'c_rate'
            n = _float(p.get('N'))
            if n:
                values['c_rate'] = 1.0 / n
        else:
            values['control'] = 'current'
            values['set_current_ma'] = current
        limit = _float(p.get('EM'))
        if limit is not None and abs(limit) < 1e3 and current != 0:  # no limit on a zero-current sequence
            direction = current if current is not None else 1.0
            values['upper_voltage_limit_v' if direction >= 0 else 'lower_voltage_limit_v'] = limit
        duration = _float(p.get('t1', p.get('ts')))
        values['duration_s'] = duration or None
        values['repeat'] = p.get('nc_cycles')
    elif technique in ('ca', 'ocv', 'wait'):
        values['control'] = 'potential' if technique == 'ca' else 'rest'
        if technique == 'ca' and vs_reference('Ei_vs'):
            values['set_potential_v'] = _float(p.get('Ei'))
        duration = _float(p.get('ti', p.get('tR')))
        values['duration_s'] = duration or None
    elif technique in ('cv', 'lsv'):
        values['control'] = 'sweep'
        values['scan_rate_mv_s'] = _scaled(p.get('dE/dt'), unit(_SCAN_UNITS, 'dE/dt_unit'), 'mV/s')
        numbers = [
            _float(p.get(key)) for key in ('Ei', 'E1', 'E2', 'Ef', 'EL') if key in p and vs_reference(f'{key}_vs')
        ]
        potentials = [value for value in numbers if value is not None]
        if potentials:
            values['upper_voltage_limit_v'] = max(potentials)
            values['lower_voltage_limit_v'] = min(potentials)
        values['repeat'] = p.get('nc_cycles')
    elif technique in ('peis', 'geis', 'zir'):
        values['control'] = 'impedance'
        if technique == 'zir':
            frequency = _scaled(p.get('f'), unit(_FREQUENCY_UNITS, 'f_unit'), 'Hz')
            values['frequency_start_hz'] = frequency
            values['frequency_end_hz'] = frequency
        else:
            values['frequency_start_hz'] = _scaled(p.get('fi'), unit(_FREQUENCY_UNITS, 'fi_unit'), 'Hz')
            values['frequency_end_hz'] = _scaled(p.get('ff'), unit(_FREQUENCY_UNITS, 'ff_unit'), 'Hz')
        if technique == 'geis':
            values['set_current_ma'] = _scaled(p.get('Is'), unit(_CURRENT_UNITS, 'Is_unit'), 'mA')
            values['amplitude_ma'] = _scaled(p.get('Ia'), unit(_CURRENT_UNITS, 'Ia_unit'), 'mA')
        else:
            if vs_reference('E_vs'):
                values['set_potential_v'] = _float(p.get('E'))
            values['amplitude_mv'] = _float(p.get('Va'))  # stored in mV, as the export shows it
    else:
        values['control'] = 'other'
    return SequenceSettings(**{key: value for key, value in values.items() if value is not None})
