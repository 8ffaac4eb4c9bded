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

from aiida_ssb.analysis.diffraction.common import (
    CU_KALPHA1_ANGSTROM,
    DiffractionSettings,
    ReferencePhase,
    d_spacing,
    two_theta,
)
from aiida_ssb.analysis.diffraction.pattern import (
    DiffractionResult,
    analyse_pattern,
    analyse_pattern_measurement,
    reference_files,
    reference_lines,
    snip_background,
)

__all__ = [
    'CU_KALPHA1_ANGSTROM',
    'DiffractionResult',
    'DiffractionSettings',
    'ReferencePhase',
    'analyse_pattern',
    'analyse_pattern_measurement',
    'd_spacing',
    'reference_files',
    'reference_lines',
    'snip_background',
    'two_theta',
]
