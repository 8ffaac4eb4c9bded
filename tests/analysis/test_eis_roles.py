"""Roles by physics: capacitance and frequency order; given roles win; every role-needing path works from a bare
circuit string."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aiida_ssb.analysis.conductivity import conductivity_of_spectrum, resistance_of_fit
from aiida_ssb.analysis.eis.cell_impedance import cell_resistances
from aiida_ssb.analysis.eis.model import fit_spectrum
from aiida_ssb.analysis.eis.roles import arcs_of, assign_roles
from aiida_ssb.analysis.eis.synthetic import full_cell_series, pellet_series
from aiida_ssb.exceptions import MissingInputError

L, A = 0.05, math.pi * 0.5**2


def pellet_values(c_bulk_f_cm=1e-12, c_gb_f_cm=1e-9, r=(1000.0, 2000.0)):
    """Values of p(R1,CPE1)-p(R2,CPE2)-CPE3 whose arcs have these specific capacitances (alpha 1: Q = C)."""
    return {
        'R1': r[0],
        'CPE1_Q': c_bulk_f_cm * A / L,
        'CPE1_alpha': 1.0,
        'R2': r[1],
        'CPE2_Q': c_gb_f_cm * A / L,
        'CPE2_alpha': 1.0,
        'CPE3_Q': 1e-6,
        'CPE3_alpha': 0.85,
    }


def test_effective_capacitance_and_frequency_of_a_cpe_arc():
    (arc,) = arcs_of('p(R1,CPE1)')
    values = {'R1': 1000.0, 'CPE1_Q': 1e-9, 'CPE1_alpha': 0.8}
    assert arc.effective_capacitance_f(values) == pytest.approx((1e-9 * 1000.0**0.2) ** (1 / 0.8), rel=1e-12)
    assert arc.characteristic_frequency_hz(values) == pytest.approx(1 / (2 * math.pi * (1e-6) ** 1.25), rel=1e-12)


def test_pellet_roles_by_specific_capacitance_in_either_order():
    circuit = 'p(R1,CPE1)-p(R2,CPE2)-CPE3'
    roles = assign_roles(circuit, pellet_values(), cell_format='blocking_pellet', thickness_cm=L, area_cm2=A)
    assert roles.roles == {
        'R1': 'bulk',
        'CPE1': 'bulk',
        'R2': 'grain_boundary',
        'CPE2': 'grain_boundary',
        'CPE3': 'electrode',
    }
    assert 'bulk range' in roles.methods['R1'] and 'F/cm' in roles.methods['R2']
    assert roles.arcs[0]['specific_capacitance_f_cm'] == pytest.approx(1e-12)
    # written the other way round, the physics still finds the bulk
    swapped = pellet_values()
    swapped['CPE1_Q'], swapped['CPE2_Q'] = swapped['CPE2_Q'], swapped['CPE1_Q']
    roles = assign_roles(circuit, swapped, cell_format='blocking_pellet', thickness_cm=L, area_cm2=A)
    assert roles.roles['R1'] == 'grain_boundary' and roles.roles['R2'] == 'bulk'
    # an interface-sized capacitance is the electrode
    third = assign_roles(
        circuit, pellet_values(c_gb_f_cm=3e-6), cell_format='blocking_pellet', thickness_cm=L, area_cm2=A
    )
    assert third.roles['R2'] == 'electrode'


def test_without_geometry_the_frequency_order_decides_and_says_so():
    roles = assign_roles('p(R1,CPE1)-p(R2,CPE2)-CPE3', pellet_values(), cell_format='blocking_pellet')
    assert roles.roles['R1'] == 'bulk' and roles.roles['R2'] == 'grain_boundary'
    assert roles.methods['R1'].startswith('frequency order')


def test_series_resistance_of_a_pellet_is_the_bulk_only_without_a_bulk_arc():
    gb_only = {'R0': 300.0, 'R1': 2000.0, 'CPE1_Q': 1e-9 * A / L, 'CPE1_alpha': 1.0, 'CPE2_Q': 1e-6, 'CPE2_alpha': 0.85}
    roles = assign_roles('R0-p(R1,CPE1)-CPE2', gb_only, cell_format='blocking_pellet', thickness_cm=L, area_cm2=A)
    assert roles.roles['R0'] == 'bulk' and roles.roles['R1'] == 'grain_boundary'
    assert 'above the measured frequencies' in roles.methods['R0']
    with_bulk = dict(gb_only, CPE1_Q=1e-12 * A / L)
    roles = assign_roles('R0-p(R1,CPE1)-CPE2', with_bulk, cell_format='blocking_pellet', thickness_cm=L, area_cm2=A)
    assert roles.roles['R0'] == 'series' and roles.roles['R1'] == 'bulk'


def test_cell_roles_and_given_roles_win():
    values = {'R0': 40.0, 'R1': 30.0, 'CPE1_Q': 1e-6, 'CPE1_alpha': 0.9, 'R2': 80.0, 'CPE2_Q': 2e-4, 'CPE2_alpha': 0.85}
    roles = assign_roles('R0-p(R1,CPE1)-p(R2,CPE2)', values, cell_format='full', area_cm2=1.13)
    assert roles.roles == {
        'R0': 'electrolyte',
        'R1': 'interface',
        'CPE1': 'interface',
        'R2': 'cathode_interphase',
        'CPE2': 'cathode_interphase',
    }
    symmetric = assign_roles('R0-p(R1,CPE1)-p(R2,CPE2)', values, cell_format='symmetric', area_cm2=1.13)
    assert symmetric.roles['R1'] == symmetric.roles['R2'] == 'interface'
    given = assign_roles(
        'R0-p(R1,CPE1)-p(R2,CPE2)', values, cell_format='full', given={'R2': 'charge_transfer', 'X9': 'bulk'}
    )
    assert given.roles['R2'] == 'charge_transfer' and given.methods['R2'] == 'given by the user'
    assert given.roles['CPE2'] == 'charge_transfer' and given.roles['R1'] == 'interface'
    assert any('X9' in note for note in given.notes)


def test_bare_circuit_string_gives_conductivity_and_growth_roles():
    """The issue's failures: a circuit given without roles must still give the bulk and the cathode interphase."""
    (pellet,) = pellet_series(2, [25.0], noise=0.003, seed=2)
    fit = fit_spectrum(
        pellet.frequency_hz,
        pellet.z,
        circuit='p(R1,CPE1)-p(R2,CPE2)-CPE3',
        compare_pinned=False,
        cell_format='blocking_pellet',
        thickness_cm=L,
        area_cm2=A,
    )
    summary = fit.to_dict()
    assert summary['role_r1'] == 'bulk' and summary['role_r2'] == 'grain_boundary'
    sigma = conductivity_of_spectrum(pellet.frequency_hz, pellet.z, fit=summary, thickness_cm=L, area_cm2=A)
    assert sigma.method_used == 'fit'
    assert sigma.conductivity_s_cm == pytest.approx(pellet.conductivity_s_cm, rel=0.02)
    cycled = full_cell_series([4], seed=3)[0]
    fit = fit_spectrum(
        cycled.frequency_hz,
        cycled.z,
        circuit='R0-p(R1,CPE1)-p(R2,CPE2)',
        compare_pinned=False,
        cell_format='full',
        area_cm2=cycled.area_cm2,
    )
    value, names, stderr = resistance_of_fit(fit.to_dict(), 'cathode_interphase')
    assert names == 'R2' and value == pytest.approx(cycled.values['R2'], rel=0.03) and stderr > 0
    cell = cell_resistances(fit.to_dict(), area_cm2=cycled.area_cm2, thickness_cm=0.06).to_dict()
    assert cell['interface_resistance_ohm_cm2'] == pytest.approx(cycled.values['R1'] * cycled.area_cm2, rel=0.03)
    assert cell['electrolyte_conductivity_s_cm'] == pytest.approx(0.06 / 50.0, rel=0.03)


def test_missing_role_names_what_exists():
    fit = {
        'circuit': 'R0-p(R1,CPE1)',
        'r0_ohm': 10.0,
        'r1_ohm': 100.0,
        'role_r0': 'electrolyte',
        'role_r1': 'interface',
    }
    with pytest.raises(MissingInputError, match=r"no resistance 'cathode_interphase' .*R0, R1; roles: R0=electrolyte"):
        resistance_of_fit(fit, 'cathode_interphase')
    assert resistance_of_fit(fit, 'auto')[:2] == (10.0, 'R0')
    assert resistance_of_fit(fit, 'total')[:2] == (110.0, 'R0+R1')
    assert resistance_of_fit(fit, 'total')[2] is None  # no standard errors stored: unknown, not 0


def test_resistance_sum_uses_the_covariance():
    fit = {
        'r1_ohm': 100.0,
        'r2_ohm': 200.0,
        'role_r1': 'bulk',
        'role_r2': 'grain_boundary',
        'covariance_parameters': ['R1', 'CPE1_Q', 'R2'],
        'covariance': [[4.0, 0.0, -3.0], [0.0, 1.0, 0.0], [-3.0, 0.0, 9.0]],
        'r1_stderr_ohm': 2.0,
        'r2_stderr_ohm': 3.0,
    }
    value, names, stderr = resistance_of_fit(fit, 'bulk+grain_boundary')
    assert (value, names) == (300.0, 'R1+R2')
    assert stderr == pytest.approx(np.sqrt(4 + 9 - 6))  # anti-correlated: smaller than independent (sqrt 13)
