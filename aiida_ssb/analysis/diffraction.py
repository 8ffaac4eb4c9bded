"""Powder diffraction: background, peaks (position, width, intensity), phase matching against user references,
lattice-parameter refinement of cubic, tetragonal and hexagonal phases, and Scherrer crystallite sizes.

Pure numpy/scipy.

Background
    SNIP (statistics-sensitive non-linear iterative peak clipping; Ryan et al. 1988) on the doubly
    log-transformed square root of the lightly smoothed counts, with clipping half-widths growing to
    ``background_window_deg``, then lifted by the median residual of the rows that are not peaks (SNIP follows
    the lower envelope of the noise, about two standard deviations below its mean).

Peaks
    ``scipy.signal.find_peaks`` on the smoothed net intensity, with a height and prominence of at least
    ``min_relative_intensity`` of the strongest peak and ``noise_factor`` noise standard deviations; then each
    group of overlapping peaks (fit windows of ``fit_window_fwhm`` widths) is fitted by least squares with a sum
    of pseudo-Voigt profiles (or Gaussians, ``profile``) on a straight local background. Each peak reports its
    position :math:`2\\theta`, d-spacing :math:`d = \\lambda / (2\\sin\\theta)`, FWHM, integrated intensity,
    height, Lorentzian fraction and the standard errors of the fit.

References and matching
    A reference phase is given by its lattice (``crystal_system``, ``a_angstrom``, ``c_angstrom``...,
    ``centring``: reflections allowed by the lattice centring), a list of d-spacings (with optional ``hkl``
    and ``relative_intensities``), a CIF file (cell, space-group symbol, symmetry operations and atom sites:
    intensities :math:`|F|^2` with scattering factors taken as the atomic number, times multiplicity and the
    Lorentz-polarisation factor) or a two-column reference pattern file (its peaks). A reference line is matched by the
    nearest observed peak within ``match_tolerance_deg``; a phase is *found* when the matched share of its
    lines' intensity in the measured range is at least ``min_match_fraction`` with two matched lines or more.

Lattice refinement
    For a found cubic, tetragonal or hexagonal phase with indexed peaks (hkl from the reference),
    :math:`2\\theta_{hkl} = 2\\arcsin(\\lambda / 2 d_{hkl}) + z` is fitted by least squares, with
    :math:`1/d^2 = (h^2+k^2+l^2)/a^2` (cubic), :math:`(h^2+k^2)/a^2 + l^2/c^2` (tetragonal),
    :math:`\\tfrac43 (h^2+hk+k^2)/a^2 + l^2/c^2` (hexagonal), and the zero shift :math:`z` when
    ``refine_zero_shift``; the reflections are re-indexed with the refined cell and refitted once.

Scherrer
    :math:`D = K\\lambda/(\\beta\\cos\\theta)` with :math:`\\beta` the FWHM (radians) less the instrument's,
    :math:`\\beta = \\sqrt{B^2 - b^2}` (``broadening_correction='quadratic'``, Gaussian) or :math:`B - b`
    (``'linear'``, Lorentzian), ``instrument_fwhm_deg`` :math:`b` and ``scherrer_k`` :math:`K`. Without the
    instrument broadening the sizes are lower bounds (flagged); peaks broadened by less than 20 % of the
    instrument's are not sized (flagged).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.optimize import least_squares
from scipy.signal import find_peaks, peak_widths

from aiida_ssb.analysis.settings import Settings
from aiida_ssb.analysis.signal import as_float_array, flag, robust_noise, smooth
from aiida_ssb.exceptions import InsufficientDataError, MissingInputError, SettingsError

__all__ = [
    'DiffractionResult',
    'DiffractionSettings',
    'ReferencePhase',
    'analyse_pattern',
    'analyse_pattern_measurement',
    'd_spacing',
    'reference_lines',
    'snip_background',
    'two_theta',
]

CU_KALPHA1_ANGSTROM = 1.5406
_LN2 = math.log(2.0)
_ELEMENTS = (
    'H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr '
    'Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir '
    'Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U'
).split()
ATOMIC_NUMBER = {symbol: number for number, symbol in enumerate(_ELEMENTS, start=1)}


class ReferencePhase(BaseModel):
    """A reference phase (one of: a lattice, a d-spacing list, a CIF file, a pattern file)."""

    model_config = ConfigDict(frozen=True, extra='forbid', allow_inf_nan=False)

    name: str = Field(min_length=1, description='phase name')
    crystal_system: Literal['cubic', 'tetragonal', 'hexagonal', 'orthorhombic', 'other'] | None = None
    a_angstrom: float | None = Field(None, gt=0)
    b_angstrom: float | None = Field(None, gt=0)
    c_angstrom: float | None = Field(None, gt=0)
    centring: Literal['P', 'I', 'F', 'C', 'A', 'B', 'R'] = 'P'
    d_spacings_angstrom: tuple[float, ...] = ()
    hkl: tuple[tuple[int, int, int], ...] = ()
    relative_intensities: tuple[float, ...] = ()
    cif: str | None = Field(None, description='path of a CIF file')
    pattern: str | None = Field(None, description='path of a two-column reference pattern (.xy, .csv)')
    pattern_wavelength_angstrom: float | None = Field(None, gt=0, description="the reference pattern's wavelength")

    @model_validator(mode='after')
    def _one_source(self) -> ReferencePhase:
        sources = [
            self.a_angstrom is not None,
            bool(self.d_spacings_angstrom),
            self.cif is not None,
            self.pattern is not None,
        ]
        if sum(sources) != 1:
            raise ValueError(
                f'reference {self.name!r}: give exactly one of a lattice, d_spacings_angstrom, cif, pattern'
            )
        if self.hkl and len(self.hkl) != len(self.d_spacings_angstrom):
            raise ValueError(f'reference {self.name!r}: hkl must have one entry per d-spacing')
        if self.relative_intensities and len(self.relative_intensities) != len(self.d_spacings_angstrom):
            raise ValueError(f'reference {self.name!r}: relative_intensities must have one entry per d-spacing')
        if self.a_angstrom is not None and self.crystal_system is None:
            raise ValueError(f'reference {self.name!r}: a lattice needs its crystal_system')
        return self


class DiffractionSettings(Settings):
    """Settings of the powder-diffraction analysis."""

    wavelength_angstrom: float | None = Field(
        None, gt=0, description='X-ray wavelength (absent: from the file, else Cu K-alpha1 1.5406, flagged)'
    )
    two_theta_range_deg: tuple[float, float] | None = Field(None, description='analyse only this 2theta range')
    background_window_deg: float = Field(2.0, gt=0, description='SNIP clipping half-width')
    smoothing_deg: float = Field(0.06, ge=0, description='Savitzky-Golay window for peak finding')
    min_relative_intensity: float = Field(0.01, gt=0, lt=1, description='smallest peak, relative to the strongest')
    noise_factor: float = Field(5.0, ge=0, description='smallest peak in noise standard deviations')
    profile: Literal['pseudo_voigt', 'gaussian'] = Field('pseudo_voigt', description='peak profile of the fit')
    fit_window_fwhm: float = Field(2.5, gt=0, description='fit window on either side of a peak, in FWHMs')
    max_peaks: int = Field(200, ge=1, description='at most this many peaks (the strongest)')
    references: tuple[ReferencePhase, ...] = Field((), description='reference phases to match')
    match_tolerance_deg: float = Field(0.15, gt=0, description='largest 2theta distance of a matched line')
    min_match_fraction: float = Field(
        0.5, gt=0, le=1, description="a phase is found when this share of its lines' intensity is matched"
    )
    min_reference_intensity: float = Field(0.02, ge=0, lt=1, description='reference lines weaker than this are ignored')
    refine_zero_shift: bool = Field(True, description='refine a 2theta zero shift with the lattice')
    instrument_fwhm_deg: float | None = Field(None, gt=0, description='instrumental FWHM (absent: not subtracted)')
    scherrer_k: float = Field(0.9, gt=0, le=2, description='Scherrer shape factor K')
    broadening_correction: Literal['quadratic', 'linear'] = Field(
        'quadratic', description='instrument broadening removal: sqrt(B^2 - b^2) or B - b'
    )

    @model_validator(mode='after')
    def _check(self) -> DiffractionSettings:
        if self.two_theta_range_deg is not None and not self.two_theta_range_deg[0] < self.two_theta_range_deg[1]:
            raise ValueError('two_theta_range_deg must be (low, high) with low < high')
        names = [ref.name for ref in self.references]
        if len(set(names)) != len(names):
            raise ValueError('reference phases must have distinct names')
        return self


def two_theta(d_angstrom: Any, wavelength: float) -> np.ndarray:
    """2theta (deg) of d-spacings; NaN where the reflection is beyond the wavelength's reach."""
    ratio = wavelength / (2.0 * np.asarray(d_angstrom, dtype=float))
    with np.errstate(invalid='ignore'):
        return np.where(ratio <= 1.0, 2.0 * np.degrees(np.arcsin(np.minimum(ratio, 1.0))), np.nan)


def d_spacing(two_theta_deg: Any, wavelength: float) -> np.ndarray:
    """d-spacing (Angstrom) of 2theta positions (Bragg's law)."""
    return wavelength / (2.0 * np.sin(np.radians(np.asarray(two_theta_deg, dtype=float) / 2.0)))


# ------------------------------------------------------------------------------------------------ background
def snip_background(intensity: np.ndarray, half_width_points: int) -> np.ndarray:
    """SNIP background (LLS-transformed counts, clipping windows 1..half_width_points)."""
    y = np.clip(np.asarray(intensity, dtype=float), 0.0, None)
    v = np.log(np.log(np.sqrt(y + 1.0) + 1.0) + 1.0)
    n = v.size
    m = max(1, min(half_width_points, (n - 1) // 2))
    for p in range(1, m + 1):
        mean = 0.5 * (v[: n - 2 * p] + v[2 * p :])
        np.minimum(v[p : n - p], mean, out=v[p : n - p])
    return np.asarray((np.exp(np.exp(v) - 1.0) - 1.0) ** 2 - 1.0)


# ------------------------------------------------------------------------------------------------ profiles
def _pseudo_voigt(x: np.ndarray, center: float, area: float, fwhm: float, eta: float) -> np.ndarray:
    u = (x - center) / fwhm
    gauss = (2.0 / fwhm) * math.sqrt(_LN2 / math.pi) * np.exp(-4.0 * _LN2 * u * u)
    lorentz = (2.0 / (math.pi * fwhm)) / (1.0 + 4.0 * u * u)
    return area * (eta * lorentz + (1.0 - eta) * gauss)


def _peak_height(area: float, fwhm: float, eta: float) -> float:
    return area * (eta * 2.0 / (math.pi * fwhm) + (1.0 - eta) * 2.0 * math.sqrt(_LN2 / math.pi) / fwhm)


# ------------------------------------------------------------------------------------------------ references
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
    from aiida_ssb.exceptions import InputError

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
    from aiida_ssb.exceptions import InputError

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


def reference_lines(
    ref: ReferencePhase, wavelength: float, d_min: float, settings: DiffractionSettings | None = None
) -> dict[str, Any]:
    """The lines of a reference phase down to ``d_min``: d-spacing, 2theta, relative intensity (1 when
    unknown), hkl (absent rows -1), its crystal system and cell where known."""
    system: str | None = ref.crystal_system
    cell: tuple[float, ...] | None = None
    if ref.a_angstrom is not None:
        cell = _cell_of(ref)
        lines = _lattice_lines(cell, ref.centring, d_min)
        lines['intensity'] = np.ones(lines['d_angstrom'].size)
    elif ref.cif is not None:
        cell, centring, system, atoms = _read_cif(ref.cif)
        lines = _lattice_lines(cell, centring, d_min, atoms or None)
        angle = np.radians(two_theta(lines['d_angstrom'], wavelength) / 2.0)
        with np.errstate(invalid='ignore', divide='ignore'):
            lorentz_polarisation = (1.0 + np.cos(2 * angle) ** 2) / (np.sin(angle) ** 2 * np.cos(angle))
        lines['intensity'] = lines['intensity'] * (lines['multiplicity'] if not atoms else 1.0) * lorentz_polarisation
        if not atoms:
            lines['intensity'] = np.ones(lines['d_angstrom'].size)
    elif ref.pattern is not None:
        angles, counts, stated = _read_pattern_file(ref.pattern)
        pattern_wavelength = ref.pattern_wavelength_angstrom or stated
        if pattern_wavelength is None:
            raise MissingInputError(f'reference pattern {ref.pattern}: give pattern_wavelength_angstrom')
        found = analyse_pattern(
            angles,
            counts,
            wavelength=pattern_wavelength,
            settings=(settings or DiffractionSettings()).model_copy(update={'references': ()}),
        )
        lines = {
            'd_angstrom': found.peaks['d_angstrom'],
            'hkl': np.full((found.peaks['d_angstrom'].size, 3), -1),
            'intensity': found.peaks['area'],
        }
    else:
        d = np.asarray(ref.d_spacings_angstrom, dtype=float)
        lines = {
            'd_angstrom': d,
            'hkl': np.asarray(ref.hkl, dtype=int) if ref.hkl else np.full((d.size, 3), -1),
            'intensity': np.asarray(ref.relative_intensities, dtype=float)
            if ref.relative_intensities
            else np.ones(d.size),
        }
    top = float(np.max(lines['intensity'])) if lines['intensity'].size else 1.0
    lines['relative_intensity'] = lines['intensity'] / (top or 1.0)
    lines['two_theta_deg'] = two_theta(lines['d_angstrom'], wavelength)
    return {'lines': lines, 'crystal_system': system, 'cell': cell}


# ------------------------------------------------------------------------------------------------ result
@dataclasses.dataclass
class DiffractionResult:
    """Peaks, phases (matched, refined, sized), headline numbers and flags."""

    settings: DiffractionSettings
    wavelength: float
    peaks: dict[str, np.ndarray]
    phases: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    curves: dict[str, np.ndarray]
    headline: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        peaks = [
            {
                key: (value[j].tolist() if isinstance(value[j], np.ndarray) else value[j].item())
                for key, value in self.peaks.items()
            }
            for j in range(self.peaks['two_theta_deg'].size)
        ]
        out: dict[str, Any] = {
            'method': f'diffraction_{self.settings.profile}',
            'parameters': self.settings.parameters(),
            'wavelength_angstrom': self.wavelength,
            'n_peaks': len(peaks),
            'peaks': peaks,
            'phases': self.phases,
            'flags': self.flags,
        }
        out.update(self.headline)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        out = dict(self.curves)
        out.update({f'peak__{key}': value for key, value in self.peaks.items() if value.ndim == 1})
        return out


def _fit_group(
    x: np.ndarray, y: np.ndarray, guesses: list[tuple[float, float, float]], profile: str
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Least-squares fit of peaks (center, area, fwhm[, eta]) on a straight background; returns the parameters
    per peak, their standard errors (or None) and the fitted curve."""
    k = len(guesses)
    per = 4 if profile == 'pseudo_voigt' else 3
    middle = float(x.mean())
    starts = [float(np.min(y)), 0.0]
    lower = [-np.inf, -np.inf]
    upper = [np.inf, np.inf]
    span = float(np.ptp(x)) or 1.0
    for center, area, fwhm in guesses:
        starts += [center, max(area, 1e-12), fwhm] + ([0.5] if per == 4 else [])
        lower += [center - 0.5 * fwhm, 0.0, fwhm * 0.2] + ([0.0] if per == 4 else [])
        upper += [center + 0.5 * fwhm, np.inf, min(fwhm * 5.0, span)] + ([1.0] if per == 4 else [])
    start = np.clip(starts, np.array(lower) + 1e-12, np.array(upper) - 1e-12)
    weights = 1.0 / np.sqrt(np.maximum(np.abs(y), 1.0))

    def model(p: np.ndarray) -> np.ndarray:
        total = p[0] + p[1] * (x - middle)
        for j in range(k):
            q = p[2 + per * j : 2 + per * (j + 1)]
            eta = q[3] if per == 4 else 0.0
            total = total + _pseudo_voigt(x, q[0], q[1], q[2], eta)
        return np.asarray(total)

    def jacobian(p: np.ndarray) -> np.ndarray:
        columns = [np.ones_like(x), x - middle]
        for j in range(k):
            q = p[2 + per * j : 2 + per * (j + 1)]
            center, area, fwhm = q[0], q[1], q[2]
            eta = q[3] if per == 4 else 0.0
            u = (x - center) / fwhm
            gauss = (2.0 / fwhm) * math.sqrt(_LN2 / math.pi) * np.exp(-4.0 * _LN2 * u * u)
            denominator = 1.0 + 4.0 * u * u
            lorentz = (2.0 / (math.pi * fwhm)) / denominator
            d_gauss_c, d_lorentz_c = gauss * 8.0 * _LN2 * u / fwhm, lorentz * 8.0 * u / (fwhm * denominator)
            d_gauss_w = gauss * (-1.0 + 8.0 * _LN2 * u * u) / fwhm
            d_lorentz_w = lorentz * (-1.0 + 8.0 * u * u / denominator) / fwhm
            columns.append(area * (eta * d_lorentz_c + (1.0 - eta) * d_gauss_c))
            columns.append(eta * lorentz + (1.0 - eta) * gauss)
            columns.append(area * (eta * d_lorentz_w + (1.0 - eta) * d_gauss_w))
            if per == 4:
                columns.append(area * (lorentz - gauss))
        return np.asarray(np.stack(columns, axis=1) * weights[:, None])

    fitted = least_squares(
        lambda p: (model(p) - y) * weights, start, jac=jacobian, bounds=(lower, upper), x_scale='jac'
    )
    params = fitted.x
    errors = None
    try:
        dof = max(1, x.size - params.size)
        s2 = 2.0 * fitted.cost / dof
        covariance = np.linalg.pinv(fitted.jac.T @ fitted.jac) * s2
        errors = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    except np.linalg.LinAlgError:
        errors = None
    table = params[2:].reshape(k, per)
    error_table = None if errors is None else errors[2:].reshape(k, per)
    return table, error_table, model(params)


def analyse_pattern(
    two_theta_deg: Any,
    intensity: Any,
    *,
    wavelength: float | None = None,
    settings: DiffractionSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> DiffractionResult:
    """Background, peaks, phase matching, lattice refinement and Scherrer sizes of a powder pattern (see the
    module docstring). ``wavelength``: from the file (the setting ``wavelength_angstrom`` wins).

    :raises InsufficientDataError: too few points, or no peak above the thresholds.
    """
    s = DiffractionSettings.resolve(settings, **overrides)
    x = as_float_array('two_theta_deg', two_theta_deg)
    y = as_float_array('intensity', intensity, x.size)
    keep = np.isfinite(x) & np.isfinite(y)
    if s.two_theta_range_deg is not None:
        keep &= (x >= s.two_theta_range_deg[0]) & (x <= s.two_theta_range_deg[1])
    x, y = x[keep], y[keep]
    order = np.argsort(x, kind='stable')
    x, y = x[order], y[order]
    if x.size < 20:
        raise InsufficientDataError(f'{x.size} points: a pattern needs at least 20')
    flags: list[dict[str, Any]] = []
    lam = s.wavelength_angstrom or wavelength
    if lam is None:
        lam = CU_KALPHA1_ANGSTROM
        flags.append(flag('wavelength_assumed', 'no wavelength in the file or settings: Cu K-alpha1 1.5406 A assumed'))
    step = float(np.median(np.diff(x)))
    if step <= 0:
        raise InsufficientDataError('two_theta_deg: repeated angles only')
    # SNIP on the lightly smoothed counts (on raw counts it follows the noise's lower envelope, leaving the net
    # intensity offset upwards by about a standard deviation)
    window = max(5, round(s.smoothing_deg / step) | 1)
    background = snip_background(smooth(y, 5, 2), round(s.background_window_deg / step))
    # SNIP follows the lower envelope of the noise: lift it by the median residual of the rows that are not
    # peaks (residual within 3 noise standard deviations of the median; twice)
    sigma = robust_noise(y)
    for _ in range(2):
        residual = y - background
        centre = float(np.median(residual))
        background = background + float(np.median(residual[residual < centre + 3.0 * sigma]))
    net = y - background
    smoothed = smooth(net, window, 2)
    noise = robust_noise(net)  # of the raw net counts: a conservative scale for the smoothed curve
    top = float(np.max(smoothed))
    threshold = max(s.min_relative_intensity * top, s.noise_factor * noise)
    found, properties = find_peaks(smoothed, height=threshold, prominence=threshold, distance=2, width=2)
    if found.size == 0:
        raise InsufficientDataError('no peak above the thresholds')
    if found.size > s.max_peaks:
        strongest = np.argsort(properties['peak_heights'])[::-1][: s.max_peaks]
        found = np.sort(found[strongest])
        flags.append(flag('peaks_truncated', f'only the {s.max_peaks} strongest peaks are kept'))
    widths = np.maximum(peak_widths(smoothed, found, rel_height=0.5)[0] * step, 2 * step)
    # groups of overlapping fit windows
    half = s.fit_window_fwhm * widths
    groups: list[list[int]] = [[0]]
    for j in range(1, found.size):
        previous = groups[-1][-1]
        if x[found[j]] - half[j] <= x[found[previous]] + half[previous]:
            groups[-1].append(j)
        else:
            groups.append([j])
    rows: dict[str, list[Any]] = {key: [] for key in ('two_theta_deg', 'area', 'fwhm_deg', 'eta')}
    errors: dict[str, list[float]] = {key: [] for key in ('two_theta_deg', 'area', 'fwhm_deg')}
    model_curve = background.copy()
    for group in groups:
        lo = x[found[group[0]]] - half[group[0]]
        hi = x[found[group[-1]]] + half[group[-1]]
        inside = (x >= lo) & (x <= hi)
        guesses = []
        for j in group:
            height = float(smoothed[found[j]])
            guesses.append((float(x[found[j]]), height * widths[j] * 1.064, float(widths[j])))
        try:
            table, error_table, curve = _fit_group(x[inside], y[inside], guesses, s.profile)
        except (ValueError, np.linalg.LinAlgError):
            table = np.array([[c, a, w] + ([0.0] if s.profile == 'pseudo_voigt' else []) for c, a, w in guesses])
            error_table, curve = None, None
            flags.append(
                flag('fit_failed', f'peaks near {lo:.2f}-{hi:.2f} deg: the profile fit failed, estimates kept')
            )
        if curve is not None:
            model_curve[inside] = curve
        for m in range(len(group)):
            row = table[m]
            rows['two_theta_deg'].append(float(row[0]))
            rows['area'].append(float(row[1]))
            rows['fwhm_deg'].append(float(row[2]))
            rows['eta'].append(float(row[3]) if s.profile == 'pseudo_voigt' else 0.0)
            for key, column in (('two_theta_deg', 0), ('area', 1), ('fwhm_deg', 2)):
                errors[key].append(float(error_table[m][column]) if error_table is not None else math.nan)
    peaks: dict[str, np.ndarray] = {key: np.asarray(value, dtype=float) for key, value in rows.items()}
    # a diffraction peak spans several points: fitted widths below 2.5 steps are noise spikes
    real = peaks['fwhm_deg'] >= 2.5 * step
    if not real.all():
        flags.append(flag('spikes_dropped', f'{int((~real).sum())} peak(s) narrower than 2.5 points dropped as noise'))
        peaks = {key: value[real] for key, value in peaks.items()}
        errors = {key: [v for v, keep in zip(value, real) if keep] for key, value in errors.items()}
        if not real.any():
            raise InsufficientDataError('no peak wider than 2.5 points above the thresholds')
    peaks['height'] = np.array(
        [_peak_height(a, w, e) for a, w, e in zip(peaks['area'], peaks['fwhm_deg'], peaks['eta'])]
    )
    for key, value in errors.items():
        peaks[f'{key}_stderr'] = np.asarray(value, dtype=float)
    peaks['d_angstrom'] = d_spacing(peaks['two_theta_deg'], lam)
    peaks['relative_intensity'] = peaks['area'] / (peaks['area'].max() or 1.0)
    peaks['phase'] = np.full(peaks['two_theta_deg'].size, -1, dtype=np.int64)
    peaks['hkl'] = np.full((peaks['two_theta_deg'].size, 3), -1, dtype=np.int64)
    sizes = _scherrer(peaks, lam, s, flags)
    peaks['crystallite_size_nm'] = sizes
    phases = _match_phases(peaks, x, lam, s, flags)
    curves = {
        'pattern__two_theta_deg': x,
        'pattern__intensity': y,
        'pattern__background': background,
        'pattern__model': model_curve,
    }
    headline = _headline(peaks, phases)
    return DiffractionResult(s, float(lam), peaks, phases, flags, curves, headline)


def _scherrer(
    peaks: dict[str, np.ndarray], lam: float, s: DiffractionSettings, flags: list[dict[str, Any]]
) -> np.ndarray:
    fwhm = peaks['fwhm_deg']
    instrument = s.instrument_fwhm_deg
    if instrument is None:
        broadening = fwhm.copy()
        flags.append(
            flag('no_instrument_broadening', 'instrument_fwhm_deg not given: crystallite sizes are lower bounds')
        )
    elif s.broadening_correction == 'quadratic':
        broadening = np.sqrt(np.clip(fwhm**2 - instrument**2, 0.0, None))
    else:
        broadening = fwhm - instrument
    resolvable = broadening > (0.2 * instrument if instrument else 0.0)
    if instrument is not None and not resolvable.all():
        flags.append(
            flag(
                'instrument_limited',
                f'{int((~resolvable).sum())} peak(s) broadened by less than 20 % of the instrument: not sized',
            )
        )
    theta = np.radians(peaks['two_theta_deg'] / 2.0)
    with np.errstate(divide='ignore', invalid='ignore'):
        size = s.scherrer_k * lam / (np.radians(broadening) * np.cos(theta)) / 10.0
    size[~resolvable | ~np.isfinite(size)] = np.nan
    return np.asarray(size)


def _match_phases(
    peaks: dict[str, np.ndarray], x: np.ndarray, lam: float, s: DiffractionSettings, flags: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    observed = peaks['two_theta_deg']
    d_min = lam / (2.0 * math.sin(math.radians(min(float(x.max()) + 1.0, 179.0) / 2.0)))
    phases = []
    best_distance = np.full(observed.size, np.inf)
    for number, ref in enumerate(s.references):
        described = reference_lines(ref, lam, d_min, s)
        lines = described['lines']
        system = described['crystal_system']
        zero = 0.0
        refined: dict[str, Any] = {}
        for iteration in range(3):
            position = lines['two_theta_deg'] + zero
            usable = (
                np.isfinite(position)
                & (position >= x.min())
                & (position <= x.max())
                & (lines['relative_intensity'] >= s.min_reference_intensity)
            )
            matched_line, matched_peak = _nearest(position[usable], observed, s.match_tolerance_deg)
            line_index = np.flatnonzero(usable)[matched_line]
            weight_all = float(lines['relative_intensity'][usable].sum())
            weight_matched = float(lines['relative_intensity'][line_index].sum())
            score = weight_matched / weight_all if weight_all > 0 else 0.0
            can_refine = (
                system in ('cubic', 'tetragonal', 'hexagonal')
                and described['cell'] is not None
                and not np.any(np.all(lines['hkl'][line_index] == -1, axis=1))
                and iteration < 2
            )
            if not can_refine or line_index.size < 2 + (system != 'cubic') + s.refine_zero_shift:
                break
            refined = _refine(system, described['cell'], lines['hkl'][line_index], observed[matched_peak], lam, s)
            if not refined:
                break
            zero = refined.get('zero_shift_deg', 0.0)
            cell = (refined['a_angstrom'], refined['a_angstrom'], refined.get('c_angstrom', refined['a_angstrom']))
            lines = _relabel(lines, system, cell, lam)
        entry: dict[str, Any] = {
            'name': ref.name,
            'match_fraction': score,
            'n_lines_in_range': int(usable.sum()),
            'n_matched': int(line_index.size),
            'found': bool(score >= s.min_match_fraction and line_index.size >= min(2, int(usable.sum()))),
        }
        if system:
            entry['crystal_system'] = system
        if line_index.size:
            entry['mean_abs_deviation_deg'] = float(np.mean(np.abs(observed[matched_peak] - position[line_index])))
        if entry['found']:
            entry.update(refined)
            for p, li in zip(matched_peak, line_index):
                distance = abs(observed[p] - position[li])
                if distance < best_distance[p]:
                    best_distance[p] = distance
                    peaks['phase'][p] = number
                    peaks['hkl'][p] = lines['hkl'][li]
        phases.append(entry)
    total_area = float(peaks['area'].sum()) or 1.0
    for number, entry in enumerate(phases):
        mine = peaks['phase'] == number
        if entry['found']:
            entry['intensity_share'] = float(peaks['area'][mine].sum()) / total_area
            sizes = peaks['crystallite_size_nm'][mine]
            sizes = sizes[np.isfinite(sizes)]
            if sizes.size:
                entry['crystallite_size_nm'] = float(np.median(sizes))
                entry['crystallite_size_spread_nm'] = float(np.std(sizes)) if sizes.size > 1 else 0.0
    if s.references:
        unexplained = int((peaks['phase'] < 0).sum())
        if unexplained:
            flags.append(
                flag(
                    'unexplained_peaks',
                    f'{unexplained} peak(s) match no found reference phase',
                    two_theta_deg=[round(float(v), 3) for v in observed[peaks['phase'] < 0][:20]],
                )
            )
        if not any(entry['found'] for entry in phases):
            flags.append(flag('no_phase_found', 'no reference phase reaches min_match_fraction'))
    return phases


def _nearest(lines: np.ndarray, observed: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one nearest pairs (line index, peak index) within the tolerance, closest first."""
    if lines.size == 0 or observed.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    distance = np.abs(lines[:, None] - observed[None, :])
    candidates = np.argwhere(distance <= tolerance)
    order = np.argsort(distance[candidates[:, 0], candidates[:, 1]])
    used_lines, used_peaks, pairs = set(), set(), []
    for li, pi in candidates[order]:
        if li in used_lines or pi in used_peaks:
            continue
        used_lines.add(li)
        used_peaks.add(pi)
        pairs.append((li, pi))
    pairs.sort()
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lines_index, peaks_index = zip(*pairs)
    return np.asarray(lines_index, dtype=np.int64), np.asarray(peaks_index, dtype=np.int64)


def _inverse_d2(system: str, hkl: np.ndarray, a: float, c: float) -> np.ndarray:
    h, k, l = hkl[:, 0], hkl[:, 1], hkl[:, 2]  # noqa: E741
    if system == 'cubic':
        return np.asarray((h * h + k * k + l * l) / a**2)
    if system == 'tetragonal':
        return np.asarray((h * h + k * k) / a**2 + l * l / c**2)
    return np.asarray(4.0 / 3.0 * (h * h + h * k + k * k) / a**2 + l * l / c**2)


def _relabel(
    lines: dict[str, np.ndarray], system: str, cell: tuple[float, float, float], lam: float
) -> dict[str, np.ndarray]:
    out = dict(lines)
    inverse = _inverse_d2(system, lines['hkl'], cell[0], cell[2])
    out['d_angstrom'] = 1.0 / np.sqrt(inverse)
    out['two_theta_deg'] = two_theta(out['d_angstrom'], lam)
    return out


def _refine(
    system: str, cell: Sequence[float], hkl: np.ndarray, observed: np.ndarray, lam: float, s: DiffractionSettings
) -> dict[str, Any]:
    a0 = float(cell[0])
    c0 = float(cell[2])
    uses_c = system != 'cubic'

    def unpack(p: np.ndarray) -> tuple[float, float, float]:
        a = p[0]
        c = p[1] if uses_c else a
        zero = p[-1] if s.refine_zero_shift else 0.0
        return a, c, zero

    def residual(p: np.ndarray) -> np.ndarray:
        a, c, zero = unpack(p)
        d = 1.0 / np.sqrt(_inverse_d2(system, hkl, a, c))
        return np.asarray(two_theta(d, lam) + zero - observed)

    start = [a0] + ([c0] if uses_c else []) + ([0.0] if s.refine_zero_shift else [])
    fitted = least_squares(residual, start, x_scale='jac')
    if not fitted.success or not np.all(np.isfinite(fitted.x)):
        return {}
    a, c, zero = unpack(fitted.x)
    dof = hkl.shape[0] - fitted.x.size
    out: dict[str, Any] = {
        'refined_lattice': True,
        'a_angstrom': float(a),
        'n_indexed': int(hkl.shape[0]),
        'rms_deviation_deg': float(np.sqrt(np.mean(fitted.fun**2))),
    }
    if uses_c:
        out['c_angstrom'] = float(c)
    if s.refine_zero_shift:
        out['zero_shift_deg'] = float(zero)
    if dof > 0:
        s2 = float(np.sum(fitted.fun**2)) / dof
        try:
            covariance = np.linalg.inv(fitted.jac.T @ fitted.jac) * s2
            out['a_stderr_angstrom'] = float(math.sqrt(max(covariance[0, 0], 0.0)))
            if uses_c:
                out['c_stderr_angstrom'] = float(math.sqrt(max(covariance[1, 1], 0.0)))
        except np.linalg.LinAlgError:
            pass
    if system == 'cubic':
        out['volume_angstrom3'] = float(a**3)
    elif system == 'tetragonal':
        out['volume_angstrom3'] = float(a * a * c)
    else:
        out['volume_angstrom3'] = float(math.sqrt(3.0) / 2.0 * a * a * c)
    return out


def _headline(peaks: dict[str, np.ndarray], phases: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    strongest = int(np.argmax(peaks['area']))
    out['strongest_peak_two_theta_deg'] = float(peaks['two_theta_deg'][strongest])
    out['strongest_peak_d_angstrom'] = float(peaks['d_angstrom'][strongest])
    found = [phase for phase in phases if phase['found']]
    if found:
        out['phases_found'] = [phase['name'] for phase in found]
        main = max(found, key=lambda phase: phase.get('intensity_share', 0.0))
        out['main_phase'] = main['name']
        for key, name in (
            ('a_angstrom', 'lattice_a_angstrom'),
            ('a_stderr_angstrom', 'lattice_a_stderr_angstrom'),
            ('c_angstrom', 'lattice_c_angstrom'),
            ('c_stderr_angstrom', 'lattice_c_stderr_angstrom'),
            ('crystallite_size_nm', 'crystallite_size_nm'),
        ):
            if key in main:
                out[name] = main[key]
    elif phases:
        out['phases_found'] = []
    sizes = peaks['crystallite_size_nm'][np.isfinite(peaks['crystallite_size_nm'])]
    if 'crystallite_size_nm' not in out and sizes.size:
        out['crystallite_size_nm'] = float(np.median(sizes))
    return out


def analyse_pattern_measurement(
    measurement: Any, *, settings: DiffractionSettings | Mapping[str, Any] | None = None, **overrides: Any
) -> DiffractionResult:
    """:func:`analyse_pattern` of a parsed pattern (columns ``two_theta_deg``, ``intensity_counts``; the wavelength
    from the metadata: ``wavelength_angstrom`` or ``wavelength_kalpha1_angstrom``)."""
    columns = getattr(measurement, 'columns', measurement)
    metadata = getattr(measurement, 'metadata', {}) or {}
    for name in ('two_theta_deg', 'intensity_counts'):
        if name not in columns:
            raise InsufficientDataError(f'a diffraction pattern needs {name}; it has {", ".join(columns)}')
    wavelength = metadata.get('wavelength_angstrom') or metadata.get('wavelength_kalpha1_angstrom')
    return analyse_pattern(
        columns['two_theta_deg'], columns['intensity_counts'], wavelength=wavelength, settings=settings, **overrides
    )


def reference_files(settings: DiffractionSettings) -> list[str]:
    """Paths of the CIF and pattern files the references read (to record their checksums)."""
    return [os.fspath(path) for ref in settings.references for path in (ref.cif, ref.pattern) if path]
