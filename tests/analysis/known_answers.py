"""Generators of records with known answers for the dQ/dV, GITT/PITT, polarisation, thermal and diffraction
tests. Each builds its signal from a physical or geometric model written here (not from the analysis code), so
the analysis is checked against the model's parameters."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfc

FARADAY = 96485.33212


# ------------------------------------------------------------------------------------------------ dQ/dV
def galvanostatic_record(
    peaks,
    *,
    v_low=3.0,
    v_high=4.2,
    background_mah_v=0.02,
    current_ma=1.0,
    dt_s=2.0,
    noise_v=0.0,
    cycles=2,
    shift_v_per_cycle=0.0,
    fade_per_cycle=0.0,
    rest_s=600.0,
    seed=0,
):
    """Constant-current cycling whose incremental capacity is a known sum of Gaussians: ``peaks`` are
    (centre V, sigma V, area mAh); each half cycle inverts Q(V) = integral of the dQ/dV model."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(v_low, v_high, 40001)
    times, volts, currents = [], [], []
    now = 0.0
    for cycle in range(cycles):
        density = np.full(grid.size, background_mah_v)
        for centre, sigma, area in peaks:
            a = area * (1.0 - fade_per_cycle * cycle)
            density += (
                a
                * np.exp(-0.5 * ((grid - centre - shift_v_per_cycle * cycle) / sigma) ** 2)
                / (sigma * math.sqrt(2 * math.pi))
            )
        charge = np.concatenate(([0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(grid))))
        for sign in (1, -1):
            total = charge[-1]
            duration = total / current_ma * 3600.0
            steps = np.arange(dt_s, duration, dt_s)
            passed = current_ma * steps / 3600.0
            v = np.interp(passed if sign > 0 else total - passed, charge, grid)
            times.append(now + steps)
            volts.append(v + rng.normal(0.0, noise_v, steps.size))
            currents.append(np.full(steps.size, sign * current_ma))
            now += duration
            rest = np.arange(dt_s, rest_s, dt_s)
            times.append(now + rest)
            volts.append(np.full(rest.size, v[-1]) + rng.normal(0.0, noise_v, rest.size))
            currents.append(np.zeros(rest.size))
            now += rest_s
    return np.concatenate(times), np.concatenate(volts), np.concatenate(currents)


# ------------------------------------------------------------------------------------------------ diffusion
def _flux_response(t, diffusion, length):
    """Surface concentration of a slab (x = 0 .. L, x = L blocked) after a unit flux (mol cm-2 s-1) starts at
    t = 0, in mol cm-3: images at short times, the Fourier series at long times."""
    t = np.asarray(t, dtype=float)
    out = np.zeros_like(t)
    positive = t > 0
    tp = t[positive]
    dt = diffusion * tp
    short = dt / length**2 < 0.5
    result = np.empty_like(tp)
    if short.any():
        s = dt[short]
        root = np.sqrt(s / math.pi)
        total = root.copy()
        for m in range(1, 12):
            ml = m * length
            total += 2.0 * (root * np.exp(-(ml**2) / s) - ml * erfc(ml / np.sqrt(s)))
        result[short] = 2.0 / diffusion * total
    if (~short).any():
        s = dt[~short] / length**2
        series = s + 1.0 / 3.0
        for n in range(1, 60):
            series -= 2.0 / (n * math.pi) ** 2 * np.exp(-((n * math.pi) ** 2) * s)
        result[~short] = length / diffusion * series
    out[positive] = result
    return out


def gitt_record(
    *,
    diffusion_cm2_s=1e-10,
    length_cm=1e-3,
    area_cm2=1.0,
    current_ma=0.1,
    pulse_s=60.0,
    rest_s=6000.0,
    n_pulses=8,
    volts_per_concentration=200.0,
    resistance_ohm=20.0,
    noise_v=0.0,
    pulse_dt_s=1.0,
    seed=0,
):
    """A GITT record of a planar electrode (slab of thickness L, flux at one face): E = E0 + k (c_s - c0) + I R,
    with c_s the exact surface concentration (superposed pulses). Returns (t, V, I)."""
    rng = np.random.default_rng(seed)
    flux = current_ma * 1e-3 / (FARADAY * area_cm2)
    times = [np.linspace(0.0, 100.0, 11)]
    now = 100.0
    starts = []
    for _ in range(n_pulses):
        starts.append(now)
        times.append(now + np.arange(pulse_dt_s, pulse_s + 1e-9, pulse_dt_s))
        now += pulse_s
        rest = np.unique(np.concatenate((np.geomspace(0.5, rest_s, 150), np.linspace(rest_s / 10, rest_s, 40))))
        times.append(now + rest)
        now += rest_s
    t = np.concatenate(times)
    concentration = np.zeros_like(t)
    current = np.zeros_like(t)
    for start in starts:
        concentration += flux * (_flux_response(t - start, diffusion_cm2_s, length_cm))
        concentration -= flux * (_flux_response(t - start - pulse_s, diffusion_cm2_s, length_cm))
        on = (t > start) & (t <= start + pulse_s + 1e-9)
        current[on] = current_ma
    voltage = 3.5 + volts_per_concentration * concentration + current * 1e-3 * resistance_ohm
    return t, voltage + rng.normal(0.0, noise_v, t.size), current


def pitt_record(
    *,
    diffusion_cm2_s=1e-10,
    length_cm=1e-3,
    charge_mah=0.05,
    step_s=20000.0,
    n_steps=5,
    step_v=0.01,
    noise_relative=0.0,
    seed=0,
):
    """A PITT record: voltage steps, each passing ``charge_mah`` with the exact current transient of a slab
    under a surface-concentration step, I(t) = 2 Q D / L^2 sum exp(-(2n+1)^2 pi^2 D t / 4 L^2)."""
    rng = np.random.default_rng(seed)
    q = charge_mah * 3600.0  # mA s
    t_parts, v_parts, i_parts = [np.array([0.0])], [np.array([3.5])], [np.array([0.0])]
    now = 0.0
    for step in range(n_steps):
        local = np.unique(np.concatenate((np.geomspace(0.1, step_s, 400), np.linspace(step_s / 50, step_s, 100))))
        series = np.zeros_like(local)
        for n in range(0, 4000):
            term = np.exp(-((2 * n + 1) ** 2) * math.pi**2 * diffusion_cm2_s * local / (4 * length_cm**2))
            series += term
            if term[0] < 1e-12:
                break
        current = 2.0 * q * diffusion_cm2_s / length_cm**2 * series
        current *= 1.0 + rng.normal(0.0, noise_relative, local.size)
        t_parts.append(now + local)
        v_parts.append(np.full(local.size, 3.5 + step_v * (step + 1)))
        i_parts.append(current)
        now += step_s
    return np.concatenate(t_parts), np.concatenate(v_parts), np.concatenate(i_parts)


# ------------------------------------------------------------------------------------------------ polarisation
def polarisation_record(
    *,
    biases_v=(0.25,),
    ocv_v=0.0,
    electronic_ohm=2.0e8,
    ionic_ohm=1.0e4,
    tau_s=3600.0,
    hold_s=86400.0,
    rest_s=3600.0,
    noise_relative=0.0,
    points=600,
    seed=0,
):
    """DC polarisation of an RC model: during a hold of bias V, I(t) = V/R_e + V/R_i exp(-t/tau) (the ionic
    branch charges the blocking double layer, the electronic branch carries the steady current). Rests at the
    open-circuit voltage between holds. Returns (t, V, I in mA)."""
    rng = np.random.default_rng(seed)
    t_parts, v_parts, i_parts = [], [], []
    now = 0.0
    for bias in biases_v:
        rest = np.linspace(0.0, rest_s, 30)[1:]
        t_parts.append(now + rest)
        v_parts.append(np.full(rest.size, ocv_v))
        i_parts.append(np.zeros(rest.size))
        now += rest_s
        local = np.unique(
            np.concatenate((np.geomspace(1.0, hold_s, points // 2), np.linspace(1.0, hold_s, points // 2)))
        )
        current_a = bias / electronic_ohm + bias / ionic_ohm * np.exp(-local / tau_s)
        current_a = current_a * (1.0 + rng.normal(0.0, noise_relative, local.size))
        t_parts.append(now + local)
        v_parts.append(np.full(local.size, ocv_v + bias))
        i_parts.append(current_a * 1e3)
        now += hold_s
    return np.concatenate(t_parts), np.concatenate(v_parts), np.concatenate(i_parts)


def symmetric_polarisation(
    *, t_plus=0.9, delta_v=0.01, bulk_ohm=500.0, interface_before_ohm=300.0, interface_after_ohm=400.0, hold_s=20000.0
):
    """A symmetric-cell polarisation whose Bruce-Vincent number is ``t_plus``: I_0 = dV/(R_b + R_0), and the
    steady current solving t+ = I_ss (dV - I_0 R_0) / (I_0 (dV - I_ss R_ss)). Returns (t, V, I in mA, I_ss)."""
    i0 = delta_v / (bulk_ohm + interface_before_ohm)
    # t I0 dV - t I0 Iss Rss = Iss dV - Iss I0 R0  ->  Iss = t I0 dV / (dV - I0 R0 + t I0 Rss)
    i_ss = t_plus * i0 * delta_v / (delta_v - i0 * interface_before_ohm + t_plus * i0 * interface_after_ohm)
    rest = np.linspace(0.0, 600.0, 20)
    local = np.unique(np.concatenate((np.geomspace(0.5, hold_s, 300), np.linspace(1.0, hold_s, 200))))
    current = i_ss + (i0 - i_ss) * np.exp(-local / (hold_s / 12.0))
    t = np.concatenate((rest, 600.0 + local))
    v = np.concatenate((np.zeros(rest.size), np.full(local.size, delta_v)))
    i = np.concatenate((np.zeros(rest.size), current * 1e3))
    return t, v, i, i_ss


# ------------------------------------------------------------------------------------------------ thermal
def dsc_trace(
    peaks, *, t_start=30.0, t_end=600.0, step_c=0.1, rate_k_min=5.0, baseline=(0.05, 1e-4), noise_w_g=0.0, seed=0
):
    """Heating at a constant rate; q (W/g) = a + b (T - T0) + sum of Gaussians (centre, sigma, height W/g; height
    negative for an endotherm). Known: tangent onset = centre - 2 sigma, enthalpy = height sigma sqrt(2 pi) / beta."""
    rng = np.random.default_rng(seed)
    temperature = np.arange(t_start, t_end, step_c)
    time = (temperature - t_start) / rate_k_min * 60.0
    q = baseline[0] + baseline[1] * (temperature - t_start)
    for centre, sigma, height in peaks:
        q = q + height * np.exp(-0.5 * ((temperature - centre) / sigma) ** 2)
    return temperature, time, q + rng.normal(0.0, noise_w_g, temperature.size)


def tga_trace(steps, *, t_start=30.0, t_end=600.0, step_c=0.1, noise_percent=0.0, seed=0):
    """Mass (%) with logistic steps (midpoint, width w, loss %). Known: tangent onset = midpoint - 2 w."""
    rng = np.random.default_rng(seed)
    temperature = np.arange(t_start, t_end, step_c)
    mass = np.full(temperature.size, 100.0)
    for middle, width, loss in steps:
        mass -= loss / (1.0 + np.exp(-(temperature - middle) / width))
    return temperature, mass + rng.normal(0.0, noise_percent, temperature.size)


# ------------------------------------------------------------------------------------------------ diffraction
def cubic_reflections(a, centring, wavelength, two_theta_max):
    """(2theta, hkl) of the distinct reflections of a cubic lattice allowed by its centring (written here from
    Bragg's law and the centring rules, independently of the analysis)."""
    found = {}
    limit = int(2 * a / wavelength) + 2
    for h in range(limit + 1):
        for k in range(h + 1):
            for l in range(k + 1):  # noqa: E741
                if h == k == l == 0:
                    continue
                if centring == 'I' and (h + k + l) % 2:
                    continue
                if centring == 'F' and len({h % 2, k % 2, l % 2}) > 1:
                    continue
                s = h * h + k * k + l * l
                ratio = wavelength * math.sqrt(s) / (2 * a)
                if ratio < 1:
                    angle = 2 * math.degrees(math.asin(ratio))
                    if angle <= two_theta_max:
                        found.setdefault(s, (angle, (h, k, l)))
    return sorted(found.values())


def powder_pattern(
    a=7.882,
    *,
    centring='I',
    wavelength=1.5406,
    two_theta=(10.0, 80.0),
    points=10000,
    size_nm=40.0,
    instrument_fwhm_deg=0.06,
    zero_shift_deg=0.0,
    background=200.0,
    scale=2000.0,
    poisson=True,
    seed=0,
    extra_peaks=(),
):
    """A pattern of a cubic phase: Gaussian peaks whose FWHM combines Scherrer broadening of ``size_nm`` and the
    instrument's in quadrature, on a sloping background with an amorphous hump; Poisson counts."""
    rng = np.random.default_rng(seed)
    x = np.linspace(two_theta[0], two_theta[1], points)
    y = background + 0.5 * (x - x[0]) + 0.3 * background * np.exp(-0.5 * ((x - 25.0) / 8.0) ** 2)
    reflections = cubic_reflections(a, centring, wavelength, two_theta[1] + 2)
    intensities = rng.uniform(0.1, 1.0, len(reflections))
    truth = []
    for (angle, hkl), weight in zip(reflections, intensities):
        theta = math.radians(angle / 2)
        beta = math.degrees(0.9 * wavelength / (size_nm * 10.0 * math.cos(theta)))
        fwhm = math.hypot(beta, instrument_fwhm_deg)
        centre = angle + zero_shift_deg
        y = y + scale * weight * np.exp(-4 * math.log(2) * ((x - centre) / fwhm) ** 2)
        truth.append((centre, hkl, fwhm))
    for centre, fwhm, height in extra_peaks:
        y = y + height * np.exp(-4 * math.log(2) * ((x - centre) / fwhm) ** 2)
    if poisson:
        y = rng.poisson(y).astype(float)
    return x, y, truth
