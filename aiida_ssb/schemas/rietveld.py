"""The structured result of an external Rietveld refinement (recorded with ``record_rietveld``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from aiida_ssb.schemas.base import SsbModel

__all__ = ['RietveldPhase', 'RietveldResult']


class RietveldPhase(SsbModel):
    """One refined phase."""

    name: str = Field(min_length=1)
    space_group: str | None = None
    weight_fraction: float | None = Field(None, ge=0, le=1, description='mass fraction (0-1)')
    weight_fraction_stderr: float | None = Field(None, ge=0)
    a_angstrom: float | None = Field(None, gt=0)
    b_angstrom: float | None = Field(None, gt=0)
    c_angstrom: float | None = Field(None, gt=0)
    alpha_deg: float | None = Field(None, gt=0, lt=180)
    beta_deg: float | None = Field(None, gt=0, lt=180)
    gamma_deg: float | None = Field(None, gt=0, lt=180)
    a_stderr_angstrom: float | None = Field(None, ge=0)
    c_stderr_angstrom: float | None = Field(None, ge=0)
    crystallite_size_nm: float | None = Field(None, gt=0)


class RietveldResult(SsbModel):
    """Phases, fractions, lattice parameters and agreement factors of a refinement made elsewhere."""

    software: str | None = Field(None, description='e.g. TOPAS 6, FullProf, GSAS-II')
    phases: list[RietveldPhase] = Field(min_length=1)
    rwp_percent: float | None = Field(None, ge=0)
    rp_percent: float | None = Field(None, ge=0)
    rexp_percent: float | None = Field(None, ge=0)
    chi2: float | None = Field(None, ge=0, description='goodness of fit chi^2 (or GOF^2)')
    wavelength_angstrom: float | None = Field(None, gt=0)
    fraction_basis: str | None = Field(None, description='wt% or mol%, when the source says')
    reference: str | None = Field(None, description='where the refinement is reported (a DOI)')
    notes: str | None = None

    @model_validator(mode='after')
    def _fractions(self) -> RietveldResult:
        fractions = [phase.weight_fraction for phase in self.phases if phase.weight_fraction is not None]
        if fractions and sum(fractions) > 1.0 + 1e-3:
            raise ValueError(f'the phase fractions add up to {sum(fractions):.3f} > 1')
        return self
