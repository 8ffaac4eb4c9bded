"""Values reported in the literature, recorded so that a lab's own results can be compared with them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from aiida_ssb.schemas.base import SsbModel
from aiida_ssb.schemas.common import Reference, SampleId

__all__ = ['LITERATURE_QUANTITIES', 'LiteratureValue']

#: the quantities a literature value may carry
LITERATURE_QUANTITIES = ('conductivity_s_cm', 'activation_energy_ev', 'oxidative_onset_v', 'reductive_onset_v')


class LiteratureValue(SsbModel):
    """One reported number about a material (give at least one quantity), with where it comes from."""

    id: str = Field(min_length=1, max_length=80, description='a unique label of this value, e.g. the table row')
    material: SampleId
    conductivity_s_cm: float | None = Field(None, gt=0, description='ionic conductivity')
    temperature_c: float | None = Field(None, ge=-273.15, description='temperature of the conductivity or onset')
    activation_energy_ev: float | None = Field(None, gt=0)
    oxidative_onset_v: float | None = None
    reductive_onset_v: float | None = None
    qualifier: Literal['equal', 'approximate', 'above', 'below', 'derived'] | None = Field(
        None, description='how the source states the number (e.g. "> 1 mS/cm" is above)'
    )
    method: str | None = None
    reference: Reference | None = Field(None, description='the source (default: the manifest reference)')
    notes: str | None = None

    @model_validator(mode='after')
    def _has_a_value(self) -> LiteratureValue:
        if all(getattr(self, name) is None for name in LITERATURE_QUANTITIES):
            raise ValueError(f'a literature value needs at least one of {", ".join(LITERATURE_QUANTITIES)}')
        return self
