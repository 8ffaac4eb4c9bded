"""Settings, reference phases and the Bragg relation of the powder-diffraction analysis (see
:mod:`aiida_ssb.analysis.diffraction`)."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from aiida_ssb.analysis.settings import Settings

__all__ = ['ATOMIC_NUMBER', 'CU_KALPHA1_ANGSTROM', 'DiffractionSettings', 'ReferencePhase', 'd_spacing', 'two_theta']

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
