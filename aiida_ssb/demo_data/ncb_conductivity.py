"""Ionic conductivity of NaCB11H12 as a function of milling time and temperature (seed 004, Murgia et al.).

Three phases, each with its own conductivity (all in the Arrhenius form sigma T = A exp(-Ea / kB T)):

* **bcc** (milled, superionic): two conduction steps *in series*, a fast one (``E_high`` = 0.205 eV) and a
  slow one (``E_low`` = 0.671 eV): ``1/(sigma T) = 1/(A_h e^(-E_high/kT)) + 1/(A_l e^(-E_low/kT))``. The slow
  step limits at low temperature, the fast one above the crossover ``T_x`` where both are equal; the
  curve bends smoothly from 0.671 to 0.205 eV.
* **orthorhombic** (pristine, ordered): ``E_ordered`` = 0.629 eV up to the order-disorder transition at
  83 degC; above it the anions disorder and it conducts like the 45-min sample (the paper: "no difference in
  sigma_DC" above the transition).
* **amorphous** (decomposition products of long milling): ``E_amorphous`` = 0.60 eV, 1e-8 S/cm at 25 degC.

Phase fractions after milling for t minutes (Johnson-Mehl-Avrami-Kolmogorov kinetics):
conversion to bcc ``c(t) = 1 - exp(-(t/tau_c)^n_c)``; amorphisation ``a(t) = 1 - exp(-(t/tau_a)^n_a)``;
``phi_bcc = (1 - a) c``, ``phi_ortho = (1 - a)(1 - c)``, ``phi_amorphous = a``.

Mixture (Archie-type law, m = 2): ``sigma = sum_i phi_i^m sigma_i``.

Calibration (the paper's numbers): the 45-min sample has sigma(25 degC) = 4e-3 S/cm; its low-temperature
pre-factor exceeds the pristine one by ``delta ln sigma0 = 11.25``; the bcc phase conductivity is whatever
makes the 45-min mixture equal to the two-step curve below the transition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ['K_B_EV_K', 'NcbConductivity', 'arrhenius_fit_ev']

K_B_EV_K = 8.617333262e-5
ZERO_C_K = 273.15


def arrhenius_fit_ev(temperature_c: np.ndarray, sigma_s_cm: np.ndarray) -> float:
    """Least-squares activation energy (eV) of ln(sigma T) against 1/(kB T)."""
    t_k = np.asarray(temperature_c, dtype=float) + ZERO_C_K
    x = -1.0 / (K_B_EV_K * t_k)
    y = np.log(np.asarray(sigma_s_cm) * t_k)
    slope = np.polyfit(x, y, 1)[0]
    return float(slope)


@dataclass(frozen=True)
class NcbConductivity:
    """The conductivity model; every parameter is a field (see the module docstring)."""

    e_high_ev: float = 0.205
    e_low_ev: float = 0.671
    e_ordered_ev: float = 0.629
    e_amorphous_ev: float = 0.60
    sigma_45_25c_s_cm: float = 4.0e-3
    crossover_c: float = -25.0
    delta_ln_sigma0: float = 11.25
    transition_c: float = 83.0
    sigma_amorphous_25c_s_cm: float = 1.0e-8
    conversion_tau_min: float = 37.2
    conversion_n: float = 4.8
    amorphisation_tau_min: float = 90.0
    amorphisation_n: float = 3.0
    archie_m: float = 2.0
    reference_milling_min: float = 45.0

    # ------------------------------------------------------------------ phase fractions
    def fractions(self, milling_min: float) -> tuple[float, float, float]:
        """(orthorhombic, bcc, amorphous) volume fractions after ``milling_min`` minutes."""
        if milling_min <= 0:
            return 1.0, 0.0, 0.0
        conversion = 1.0 - math.exp(-((milling_min / self.conversion_tau_min) ** self.conversion_n))
        amorphous = 1.0 - math.exp(-((milling_min / self.amorphisation_tau_min) ** self.amorphisation_n))
        return (1.0 - amorphous) * (1.0 - conversion), (1.0 - amorphous) * conversion, amorphous

    # ------------------------------------------------------------------ pre-factors
    @property
    def _t25_k(self) -> float:
        return 25.0 + ZERO_C_K

    @property
    def prefactor_ratio(self) -> float:
        """A_l / A_h, from the crossover temperature where both steps are equal."""
        t_x = self.crossover_c + ZERO_C_K
        return math.exp((self.e_low_ev - self.e_high_ev) / (K_B_EV_K * t_x))

    @property
    def prefactor_high(self) -> float:
        """A_h (S K/cm) of the 45-min sample's fast step, from sigma(25 degC)."""
        t = self._t25_k
        ratio = self.prefactor_ratio
        inverse = math.exp(self.e_high_ev / (K_B_EV_K * t)) + math.exp(self.e_low_ev / (K_B_EV_K * t)) / ratio
        return self.sigma_45_25c_s_cm * t * inverse

    @property
    def prefactor_low(self) -> float:
        """A_l (S K/cm) of the 45-min sample's slow step."""
        return self.prefactor_high * self.prefactor_ratio

    @property
    def prefactor_ordered(self) -> float:
        """Pristine (orthorhombic) pre-factor: A_l exp(-delta ln sigma0)."""
        return self.prefactor_low * math.exp(-self.delta_ln_sigma0)

    @property
    def prefactor_amorphous(self) -> float:
        t = self._t25_k
        return self.sigma_amorphous_25c_s_cm * t * math.exp(self.e_amorphous_ev / (K_B_EV_K * t))

    # ------------------------------------------------------------------ phase conductivities (S/cm)
    def sigma_45_two_step(self, temperature_c) -> np.ndarray:
        """The 45-min sample below the transition: the two steps in series."""
        t = np.asarray(temperature_c, dtype=float) + ZERO_C_K
        fast = self.prefactor_high * np.exp(-self.e_high_ev / (K_B_EV_K * t))
        slow = self.prefactor_low * np.exp(-self.e_low_ev / (K_B_EV_K * t))
        return 1.0 / (1.0 / fast + 1.0 / slow) / t

    def sigma_ordered(self, temperature_c) -> np.ndarray:
        t = np.asarray(temperature_c, dtype=float) + ZERO_C_K
        return self.prefactor_ordered * np.exp(-self.e_ordered_ev / (K_B_EV_K * t)) / t

    def sigma_orthorhombic(self, temperature_c) -> np.ndarray:
        """Ordered below the transition, disordered (= the 45-min curve) above it."""
        temperature = np.asarray(temperature_c, dtype=float)
        return np.where(
            temperature < self.transition_c, self.sigma_ordered(temperature), self.sigma_45_two_step(temperature)
        )

    def sigma_amorphous(self, temperature_c) -> np.ndarray:
        t = np.asarray(temperature_c, dtype=float) + ZERO_C_K
        return self.prefactor_amorphous * np.exp(-self.e_amorphous_ev / (K_B_EV_K * t)) / t

    def sigma_bcc(self, temperature_c) -> np.ndarray:
        """The bcc phase, calibrated so that the 45-min mixture equals the two-step curve."""
        ortho, bcc, amorphous = self.fractions(self.reference_milling_min)
        m = self.archie_m
        rest = ortho**m * self.sigma_ordered(temperature_c) + amorphous**m * self.sigma_amorphous(temperature_c)
        return (self.sigma_45_two_step(temperature_c) - rest) / bcc**m

    # ------------------------------------------------------------------ the samples
    def sigma(self, milling_min: float, temperature_c) -> np.ndarray:
        """Total conductivity (S/cm) of the powder milled ``milling_min`` minutes, at ``temperature_c``."""
        ortho, bcc, amorphous = self.fractions(milling_min)
        m = self.archie_m
        total = ortho**m * self.sigma_orthorhombic(temperature_c) + amorphous**m * self.sigma_amorphous(temperature_c)
        if bcc > 0:
            total = total + bcc**m * self.sigma_bcc(temperature_c)
        return np.asarray(total, dtype=float)
