"""The headline numbers of a cell summary, by name (the cell-table columns filled by analyses).

A plain dict in a module of its own, without AiiDA, so that the command line can tell an analysis field from a
record field without importing the calcfunctions (:mod:`aiida_ssb.query.fast`). ``summarise_cell``
(:mod:`aiida_ssb.calculations.summary`) fills them.
"""

from __future__ import annotations

__all__ = ['HEADLINE_FIELDS']

#: headline field -> description (the cell-table columns filled by analyses)
HEADLINE_FIELDS: dict[str, str] = {
    'n_cycles': 'number of cycles of the main cycling record',
    'initial_discharge_capacity_mah_g': 'first-cycle discharge capacity per active mass',
    'initial_coulombic_efficiency_percent': 'first-cycle coulombic efficiency',
    'reference_cycle': 'the retention reference cycle (by the rule in the options)',
    'reference_discharge_capacity_mah_g': 'discharge capacity of the reference cycle per active mass',
    'capacity_retention_percent_at_N': 'discharge-capacity retention at cycle N against the reference '
    '(N = 10, 20, 50, 100, 150, 200, 300, 400, 500, 800, 1000 when reached)',
    'energy_retention_percent_at_N': 'discharge-energy retention at cycle N',
    'capacity_retention_percent_at_end': 'discharge-capacity retention at the last complete cycle',
    'energy_retention_percent_at_end': 'discharge-energy retention at the last complete cycle',
    'average_discharge_voltage_v': 'reference cycle: average discharge voltage (energy / capacity) of the reference '
    'cycle (per-cycle values: aiida_ssb.query.cycles)',
    'specific_energy_wh_kg_active': 'reference cycle: discharge energy per active mass of the reference cycle',
    'specific_energy_wh_kg_composite': 'reference cycle: discharge energy per composite mass of the reference cycle',
    'cycles_to_80_percent': 'cycles after the reference until retention stays below 80 %',
    'rate_capability_percent': 'capacity at the highest rate / at the lowest rate (second cycle at each)',
    'upper_cutoff_v': 'upper cut-off voltage of the main cycling record as a whole, not of one cycle (highest '
    'median of its blocks)',
    'cycling_conventions': 'how the main cycling record was counted: cell kind, first half cycle, CE orientation, '
    'capacity and C-rate electrode (each from the cell or an option)',
    'second_coulombic_efficiency_percent': 'coulombic efficiency of the second complete cycle',
    'second_energy_efficiency_percent': 'energy efficiency of the second complete cycle',
    'first_cycle_irreversible_capacity_mah_g': 'first-cycle irreversible capacity per active mass',
    'first_cycle_ce_above_99_percent': 'the first cycle whose coulombic efficiency reaches 99 %',
    'initial_specific_energy_wh_kg_active': 'discharge energy of the first complete cycle per active mass',
    'initial_specific_energy_wh_kg_both_composites': 'discharge energy of the first complete cycle per mass of both '
    'electrode composites without electrolyte',
    'specific_energy_wh_kg_both_composites': 'reference cycle: discharge energy of the reference cycle per mass of '
    'both electrode '
    'composites without electrolyte (active material, carbon, binder)',
    'specific_energy_wh_kg_stack': 'reference cycle: discharge energy of the reference cycle per mass of the whole '
    'stack (every layer '
    'weighed)',
    'specific_energy_wh_kg_cell': 'reference cycle: discharge energy of the reference cycle per mass of stack and '
    'housing',
    'initial_plateau_overpotential_v': 'half the charge-discharge voltage gap averaged over the plateau (20-80 % '
    'state of charge), first complete cycle',
    'end_plateau_overpotential_v': 'the same at the last complete cycle',
    'np_ratio_measured': 'N/P ratio from the first-cycle capacities of half cells of the same electrode materials',
    'ccd_asr_per_interface_ohm_cm2': 'symmetric cell: area-specific resistance per interface (total / 2) at the '
    'first current step',
    'cycling_record': 'the cycling record the cycling headline numbers come from (file, technique, conditions): of '
    'several cycling records of a cell, the one with the most cycles (the latest on ties)',
    'ccd_record': 'the record the critical current density comes from (the one with the most half cycles)',
    'onsets_record': 'the voltammogram the oxidative onset comes from (the slowest scan holding an onset)',
    'conductivity_record': 'the spectrum conductivity_25c_s_cm comes from, when it is one spectrum near 25 °C (not '
    'an Arrhenius fit)',
    'flags': 'plausibility flags of the cell record and of its analyses (flag, reason, source); filter with '
    '"flags contains NAME"',
    'ccd_ma_cm2': 'critical current density, sudden-drop criterion (last stable step)',
    'ccd_zero_volt_ma_cm2': 'critical current density, 0 V criterion (the step whose |V| collapses)',
    'oxidative_onset_v': 'headline oxidative onset: the first onset above the headline significance (two-line '
    'method by default)',
    'oxidative_onset_band_low_v': 'its sensitivity band: lowest onset when the windows or the scan end move',
    'oxidative_onset_band_high_v': 'its sensitivity band: highest onset',
    'reductive_onset_v': 'headline reductive onset',
    'onset_scan_rate_mv_s': 'scan rate of the voltammogram giving the onset',
    'soaring_cutoff_v': 'stepwise CV: the upper cut-off at which the anodic current soars',
    'conductivity_25c_s_cm': 'ionic conductivity at 25 °C (Arrhenius interpolation, or a spectrum at 25 ± 3 °C)',
    'conductivity_25c_stderr_s_cm': 'its standard error (Arrhenius)',
    'activation_energy_ev': 'activation energy of the headline Arrhenius regime',
    'interface_growth_rate_ohm_cm2_per_sqrt_h': 'parabolic growth constant k of the tracked interface resistance',
    'interface_resistance_last_ohm_cm2': 'the tracked interface resistance at the last spectrum',
    'conductivity_25c_low_s_cm': 'lower end of the interval of conductivity_25c_s_cm (95 % unless set otherwise)',
    'conductivity_25c_high_s_cm': 'upper end of the interval of conductivity_25c_s_cm',
    'activation_energy_stderr_ev': 'standard error of the headline activation energy (weighted regression)',
    'activation_energy_low_ev': 'lower end of the interval of the headline activation energy',
    'activation_energy_high_ev': 'upper end of the interval of the headline activation energy',
    'arrhenius_n_regimes': 'number of Arrhenius regimes (chosen by evidence unless windows were given)',
    'interface_growth_rate_stderr_ohm_cm2_per_sqrt_h': 'standard error of the growth constant k',
    'interface_growth_rate_low_ohm_cm2_per_sqrt_h': 'lower end of the interval of k',
    'interface_growth_rate_high_ohm_cm2_per_sqrt_h': 'upper end of the interval of k',
    'electrolyte_resistance_ohm_cm2': 'cell impedance: area-specific electrolyte resistance (latest spectrum)',
    'interface_resistance_ohm_cm2': 'cell impedance: area-specific interface resistance (latest spectrum)',
    'eis_fits': 'number of impedance spectra fitted',
    'eis_fits_flagged': 'fits accepted with a flag (residual structure, pinned circuit rejected by evidence...)',
    'eis_fits_rejected': 'fits not accepted (chi2/|Z| above the gate, no convergence)',
    'eis_fit_quality': 'good, or what is flagged or rejected among the impedance fits, with the reasons',
    'dqdv_charge_peak_v': 'dQ/dV: main (largest-area) peak of the first charge',
    'dqdv_discharge_peak_v': 'dQ/dV: main peak of the first discharge',
    'dqdv_peak_separation_v': 'dQ/dV: main charge peak minus main discharge peak (polarisation)',
    'dqdv_charge_peak_shift_v': 'dQ/dV: shift of the main charge peak from the first to the last cycle',
    'gitt_diffusion_coefficient_cm2_s': 'GITT: median Weppner-Huggins diffusion coefficient over the pulses',
    'pitt_diffusion_coefficient_cm2_s': 'PITT: median diffusion coefficient over the steps',
    'electronic_conductivity_s_cm': 'electronic conductivity from the steady current of a DC polarisation',
    'time_to_steady_state_h': 'DC polarisation: time until the current stays within tolerance of I_ss',
    'transference_number': 'cation transference number (Bruce-Vincent; Evans without impedance, flagged)',
    'dsc_onset_c': 'DSC: tangent onset of the first significant exotherm of the first heating',
    'dsc_peak_c': 'DSC: temperature of the largest exotherm',
    'dsc_peak_heat_flow_w_g': 'DSC: height of the largest exotherm above its baseline',
    'dsc_exotherm_j_g': 'DSC: total exothermic heat of the first heating',
    'tga_mass_loss_percent': 'TGA: mass lost over the first heating',
    'lattice_a_angstrom': 'XRD: refined lattice parameter a of the main phase',
    'crystallite_size_nm': 'XRD: Scherrer crystallite size of the main phase',
    'xrd_main_phase': 'XRD: the found reference phase with the largest intensity share',
}
