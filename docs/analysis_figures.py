"""Figures of the analysis pages of issue 21 (dQ/dV, GITT/PITT, polarisation, thermal, diffraction), drawn from
generated records with known answers (``tests/analysis/known_answers.py``), by the same plotting functions the
``plot`` command uses. Called by ``docs/generate.py``; runnable alone: ``python docs/analysis_figures.py OUTDIR``."""

from __future__ import annotations

import math
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def draw(outdir: pathlib.Path, extension: str = '.svg') -> list[pathlib.Path]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from aiida_ssb.analysis.diffraction import analyse_pattern
    from aiida_ssb.analysis.dqdv import incremental_capacity
    from aiida_ssb.analysis.gitt import gitt, pitt
    from aiida_ssb.analysis.polarisation import electronic_conductivity, transference_number
    from aiida_ssb.analysis.thermal import thermal_analysis
    from aiida_ssb.plotting import diffraction as xrd
    from aiida_ssb.plotting import electrochem as ec
    from aiida_ssb.plotting import thermal as th
    from aiida_ssb.plotting.common import save_figure
    from tests.analysis import known_answers as ka

    outdir.mkdir(parents=True, exist_ok=True)
    written = []

    def save(figure, name):
        written.append(pathlib.Path(save_figure(figure, outdir / name.replace('.svg', extension))))

    t, v, i = ka.galvanostatic_record(
        [(3.6, 0.02, 0.5), (4.0, 0.03, 0.4)], cycles=5, shift_v_per_cycle=0.01, fade_per_cycle=0.05, noise_v=0.0003
    )
    result = incremental_capacity(t, v, i, mass_mg=2.0)
    save(
        ec.plot_dqdv(result.arrays(), result.to_dict(), title='generated: plateaus at 3.6 and 4.0 V'),
        'dqdv_example.svg',
    )
    save(ec.plot_dvdq(result.arrays(), half_cycles=[1, 9], title='dV/dQ, first and last charge'), 'dvdq_example.svg')

    t, v, i = ka.gitt_record(noise_v=1e-4)
    result = gitt(t, v, i, particle_radius_um=30.0)
    save(
        ec.plot_titration(result.arrays(), result.to_dict(), record=(t, v), title='generated GITT, D = 1e-10 cm²/s'),
        'gitt_example.svg',
    )
    t, v, i = ka.pitt_record(step_s=30000.0)
    result = pitt(t, v, i, particle_radius_um=30.0)
    save(
        ec.plot_titration(
            result.arrays(),
            result.to_dict(),
            record=(t, i),
            record_label='current / mA',
            title='generated PITT, D = 1e-10 cm²/s',
        ),
        'pitt_example.svg',
    )

    area = math.pi * 0.5**2
    t, v, i = ka.polarisation_record(
        biases_v=(0.25, 0.5), ocv_v=2.3, electronic_ohm=0.05 / (5e-9 * area), noise_relative=0.005
    )
    result = electronic_conductivity(t, v, i, thickness_cm=0.05, area_cm2=area)
    save(
        ec.plot_polarisation(result.arrays(), result.to_dict(), title='Li | SE | Cu RC model, σ_e = 5e-9 S/cm'),
        'polarisation_example.svg',
    )
    t, v, i, _ = ka.symmetric_polarisation(t_plus=0.91, delta_v=0.05)
    result = transference_number(
        t,
        v,
        i,
        interface_resistance_before_ohm=300.0,
        interface_resistance_after_ohm=400.0,
        bulk_resistance_before_ohm=500.0,
    )
    save(
        ec.plot_transference(result.arrays(), result.to_dict(), title='symmetric cell, t+ = 0.91'),
        'transference_example.svg',
    )

    temperature, time, q = ka.dsc_trace([(150.0, 15.0, -0.3), (540.0, 6.0, 5.0)], noise_w_g=0.005)
    _, mass = ka.tga_trace([(150.0, 8.0, 2.0), (530.0, 5.0, 1.0)], noise_percent=0.002)
    result = thermal_analysis(temperature, time_s=time, heat_flow_mw=q * 10.0, mass_percent=mass, sample_mass_mg=10.0)
    save(
        th.plot_thermal(result.arrays(), result.to_dict(), title='generated STA: exotherm onset 528 °C'),
        'thermal_example.svg',
    )

    x, y, _ = ka.powder_pattern(7.882, extra_peaks=[(14.5, 0.2, 300.0)], zero_shift_deg=0.02)
    references = [
        {'name': 'bcc (Im-3m)', 'crystal_system': 'cubic', 'a_angstrom': 7.85, 'centring': 'I'},
        {'name': 'second phase', 'd_spacings_angstrom': [6.104]},
    ]
    result = analyse_pattern(x, y, wavelength=1.5406, references=references, instrument_fwhm_deg=0.06)
    save(
        xrd.plot_diffraction(result.arrays(), result.to_dict(), title='generated pattern: bcc a = 7.882 Å, 40 nm'),
        'diffraction_example.svg',
    )
    return written


if __name__ == '__main__':
    for path in draw(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / 'docs' / 'source' / '_generated')):
        print(path)
