"""Reference lines from a lattice, a CIF file or a reference pattern file (see
:mod:`aiida_ssb.analysis.diffraction`)."""

from __future__ import annotations

import math
import re

import numpy as np

from aiida_ssb.analysis.diffraction.common import ATOMIC_NUMBER, ReferencePhase
from aiida_ssb.exceptions import InputError, SettingsError


def _metric(a: float, b: float, c: float, alpha: float, beta: float, gamma: float) -> np.ndarray:
    ca, cb, cg = (math.cos(math.radians(angle)) for angle in (alpha, beta, gamma))
    real = np.array([[a * a, a * b * cg, a * c * cb], [a * b * cg, b * b, b * c * ca], [a * c * cb, b * c * ca, c * c]])
    return np.linalg.inv(real)


def _allowed(h: np.ndarray, k: np.ndarray, l: np.ndarray, centring: str) -> np.ndarray:  # noqa: E741
    if centring == 'I':
        return np.asarray((h + k + l) % 2 == 0)
    if centring == 'F':
        return np.asarray(((h + k) % 2 == 0) & ((k + l) % 2 == 0) & ((h + l) % 2 == 0))
    if centring == 'C':
        return np.asarray((h + k) % 2 == 0)
    if centring == 'A':
        return np.asarray((k + l) % 2 == 0)
    if centring == 'B':
        return np.asarray((h + l) % 2 == 0)
    if centring == 'R':
        return np.asarray((-h + k + l) % 3 == 0)
    return np.ones(h.shape, dtype=bool)


def _cell_of(ref: ReferencePhase) -> tuple[float, float, float, float, float, float]:
    a = ref.a_angstrom
    if a is None:
        raise SettingsError(f'reference {ref.name!r}: a lattice needs a_angstrom')
    system = ref.crystal_system
    b = ref.b_angstrom or a
    c = ref.c_angstrom or a
    gamma = 120.0 if system == 'hexagonal' else 90.0
    if system in ('tetragonal', 'hexagonal') and ref.c_angstrom is None:
        raise SettingsError(f'reference {ref.name!r}: a {system} lattice needs c_angstrom')
    return a, b, c, 90.0, 90.0, gamma


def _lattice_lines(
    cell: tuple[float, ...], centring: str, d_min: float, structure: list[tuple[float, np.ndarray]] | None = None
) -> dict[str, np.ndarray]:
    """Distinct reflections of a cell down to ``d_min``: d, one hkl each, multiplicity, intensity (|F|^2 M LP
    with a structure, else 1)."""
    inverse = _metric(*cell)
    limits = [math.ceil(cell[i] / d_min) + 1 for i in range(3)]
    h, k, l = np.meshgrid(*(np.arange(-m, m + 1) for m in limits), indexing='ij')  # noqa: E741
    hkl = np.stack([h.ravel(), k.ravel(), l.ravel()], axis=1)
    hkl = hkl[np.any(hkl != 0, axis=1)]
    inv_d2 = np.einsum('ij,jk,ik->i', hkl, inverse, hkl)
    keep = (inv_d2 > 0) & (inv_d2 <= 1.0 / d_min**2) & _allowed(hkl[:, 0], hkl[:, 1], hkl[:, 2], centring)
    hkl, inv_d2 = hkl[keep], inv_d2[keep]
    d = 1.0 / np.sqrt(inv_d2)
    if structure:
        phases = 2j * math.pi * (hkl @ np.stack([position for _, position in structure], axis=1))
        weights = np.array([weight for weight, _ in structure])
        f2 = np.abs(np.exp(phases) @ weights) ** 2
    else:
        f2 = np.ones(d.size)
    # one line per distinct d (rounded to 1e-5 A); multiplicity counts the equivalent hkl
    key = np.round(d, 5)
    order = np.lexsort((-hkl[:, 2], -hkl[:, 1], -hkl[:, 0], -key))
    key, d, hkl, f2 = key[order], d[order], hkl[order], f2[order]
    unique, first, counts = np.unique(-key, return_index=True, return_counts=True)
    del unique
    intensity = np.add.reduceat(f2, first) if structure else counts.astype(float)
    representative = hkl[first]
    if cell[0] == cell[1] == cell[2] and np.allclose(cell[3:], 90.0):
        representative = -np.sort(-np.abs(representative), axis=1)  # cubic: written as h >= k >= l >= 0
    lines = {'d_angstrom': d[first], 'hkl': representative, 'multiplicity': counts, 'intensity': intensity}
    if structure:
        keep = lines['intensity'] > 1e-6 * lines['intensity'].max()
        lines = {key: value[keep] for key, value in lines.items()}
    return lines


_WAVELENGTH_COMMENT = re.compile(r'(?:lambda|wavelength)\w*\s*[:=]?\s*([0-9]*\.?[0-9]+)', re.IGNORECASE)


def _read_pattern_file(path: str) -> tuple[np.ndarray, np.ndarray, float | None]:
    """2theta, counts and the wavelength stated in a comment (``# wavelength: 1.5406 A``) of a two-column text
    pattern (``.xy``, ``.csv``; ``#`` comments; comma, semicolon, tab or space separated)."""

    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            text = handle.read()
    except OSError as exc:
        raise InputError(f'{path}: cannot read the reference pattern: {exc.strerror}') from None
    rows, comments = [], []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(('#', '!', ';', '%', '//')):
            comments.append(stripped)
            continue
        fields = re.split(r'[,;\s]+', stripped)
        try:
            rows.append((float(fields[0]), float(fields[1])))
        except (ValueError, IndexError):
            continue  # a column-name line
    if len(rows) < 20:
        raise InputError(f'{path}: a reference pattern needs two numeric columns (2theta, intensity)')
    data = np.asarray(rows)
    match = _WAVELENGTH_COMMENT.search('\n'.join(comments))
    return data[:, 0], data[:, 1], float(match.group(1)) if match else None


def _cif_value(text: str) -> float:
    return float(re.sub(r'\(.*\)', '', text.strip().strip('\'"')))


def _read_cif(path: str) -> tuple[tuple[float, ...], str, str, list[tuple[float, np.ndarray]]]:
    """Cell, centring letter, crystal system and the atoms (weight = Z x occupancy, fractional position) of every
    site after applying the symmetry operations, from a CIF file."""

    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            lines = [line.rstrip('\n') for line in handle]
    except OSError as exc:
        raise InputError(f'{path}: cannot read the CIF file: {exc.strerror}') from None
    values: dict[str, str] = {}
    loops: list[tuple[list[str], list[list[str]]]] = []
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if stripped.lower() == 'loop_':
            names, rows = [], []
            index += 1
            while index < len(lines) and lines[index].strip().startswith('_'):
                names.append(lines[index].strip().split()[0].lower())
                index += 1
            tokens: list[str] = []
            while index < len(lines):
                text = lines[index].strip()
                if (
                    not text
                    or text.startswith(('_', '#'))
                    or text.lower() in ('loop_',)
                    or text.lower().startswith('data_')
                ):
                    break
                tokens.extend(_cif_tokens(text))
                index += 1
            width = len(names)
            rows = [tokens[i : i + width] for i in range(0, len(tokens) - width + 1, width)]
            loops.append((names, rows))
            continue
        if stripped.startswith('_'):
            parts = _cif_tokens(stripped)
            if len(parts) >= 2:
                values[parts[0].lower()] = parts[1]
            elif index + 1 < len(lines):
                values[parts[0].lower()] = lines[index + 1].strip().strip(';').strip()
        index += 1
    try:
        cell = tuple(
            _cif_value(values[f'_cell_{name}'])
            for name in ('length_a', 'length_b', 'length_c', 'angle_alpha', 'angle_beta', 'angle_gamma')
        )
    except (KeyError, ValueError) as exc:
        raise InputError(f'{path}: the CIF lacks a readable cell ({exc})') from None
    symbol = (
        values.get('_symmetry_space_group_name_h-m')
        or values.get('_space_group_name_h-m_alt')
        or values.get('_space_group_name_h-m')
        or 'P 1'
    ).strip('\'" ')
    centring = symbol[:1].upper() if symbol[:1].upper() in 'PIFCABR' else 'P'
    a, b, c, alpha, beta, gamma = cell
    if np.allclose([alpha, beta, gamma], 90.0) and math.isclose(a, b) and math.isclose(b, c):
        system = 'cubic'
    elif np.allclose([alpha, beta, gamma], 90.0) and math.isclose(a, b):
        system = 'tetragonal'
    elif np.allclose([alpha, beta], 90.0) and math.isclose(gamma, 120.0) and math.isclose(a, b):
        system = 'hexagonal'
    elif np.allclose([alpha, beta, gamma], 90.0):
        system = 'orthorhombic'
    else:
        system = 'other'
    operations = ['x,y,z']
    atoms: list[tuple[float, np.ndarray]] = []
    for names, rows in loops:
        for key in ('_symmetry_equiv_pos_as_xyz', '_space_group_symop_operation_xyz'):
            if key in names:
                operations = [row[names.index(key)] for row in rows]
        if '_atom_site_fract_x' in names:
            column = {name: position for position, name in enumerate(names)}
            for row in rows:
                label_key = '_atom_site_type_symbol' if '_atom_site_type_symbol' in column else '_atom_site_label'
                element = re.match(r'[A-Z][a-z]?', row[column[label_key]])
                number = ATOMIC_NUMBER.get(element.group(0), 6) if element else 6
                occupancy = _cif_value(row[column['_atom_site_occupancy']]) if '_atom_site_occupancy' in column else 1.0
                base = np.array([_cif_value(row[column[f'_atom_site_fract_{axis}']]) for axis in 'xyz'])
                seen: list[np.ndarray] = []
                for operation in operations:
                    position = _apply_symop(operation, base) % 1.0
                    if not any(np.allclose((position - other + 0.5) % 1.0 - 0.5, 0.0, atol=1e-3) for other in seen):
                        seen.append(position)
                atoms.extend((number * occupancy, position) for position in seen)
    return cell, centring, system, atoms


def _cif_tokens(text: str) -> list[str]:
    return [token.strip('\'"') for token in re.findall(r"'[^']*'|\"[^\"]*\"|\S+", text)]


def _apply_symop(operation: str, position: np.ndarray) -> np.ndarray:
    result = []
    for part in operation.replace(' ', '').lower().split(','):
        value = 0.0
        for sign, term in re.findall(r'([+-]?)([^+-]+)', part):
            factor = -1.0 if sign == '-' else 1.0
            if term in 'xyz':
                value += factor * position['xyz'.index(term)]
            elif '/' in term:
                numerator, denominator = term.split('/')
                value += factor * float(numerator) / float(denominator)
            else:
                value += factor * float(term)
        result.append(value)
    return np.array(result)
