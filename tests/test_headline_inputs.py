"""The cell summary reads a subset of a cell's analysis summaries (:func:`headline_inputs`): on families of
generated summary sets, the subset gives exactly the headline numbers of the full set, and it is small."""

import random
import uuid

import pytest

from aiida_ssb.calculations.summary import headline_inputs, headline_numbers


def _summary(analysis: str, rng: random.Random, **values) -> dict:
    flagged = rng.random() < 0.1
    item = {'analysis': analysis, 'uuid': str(uuid.UUID(int=rng.getrandbits(128))), **values}
    if flagged:
        item['flags'] = [{'flag': f'{analysis}_odd', 'reason': 'generated'}]
    return item


def _pellet(rng: random.Random, n_spectra: int) -> dict[str, dict]:
    """A temperature series: an impedance fit, a DRT and a conductivity per spectrum, and an Arrhenius fit."""
    out = {}
    temperatures = sorted(rng.sample(range(-40, 100), n_spectra))
    for index, t_c in enumerate(temperatures):
        quality = rng.choice(['good'] * 8 + ['flagged', 'rejected'])
        out[f'eis_fit__{index:03d}'] = _summary('eis_fit', rng, quality=quality, chi2=rng.random())
        out[f'drt__{index:03d}'] = _summary('drt', rng, n_peaks=rng.randint(1, 3))
        out[f'conductivity__{index:03d}'] = _summary(
            'conductivity', rng, conductivity_s_cm=rng.uniform(1e-5, 1e-2), measurement_temperature_c=float(t_c)
        )
    if rng.random() < 0.8:
        out['arrhenius__series'] = _summary(
            'arrhenius',
            rng,
            n_points=n_spectra,
            activation_energy_ev=rng.uniform(0.2, 0.5),
            conductivity_at_reference_s_cm=1e-3,
            reference_extrapolated=rng.random() < 0.3,
        )
    return out


def _cycled(rng: random.Random) -> dict[str, dict]:
    """Several cycling records (some without numbers), onsets at several scan rates, a CCD."""
    out = {}
    for index in range(rng.randint(1, 4)):
        n_cycles = rng.choice([None, rng.randint(1, 200)])
        values = {'n_cycles': n_cycles}
        if rng.random() < 0.7:
            values['initial_discharge_capacity_mah_g_active'] = rng.uniform(50, 200)
            values['capacity_retention_percent_at_end'] = rng.uniform(60, 100)
        out[f'cycling__{index}'] = _summary('cycling', rng, **values)
        out[f'dqdv__{index}'] = _summary('dqdv', rng, charge_peak_v=rng.uniform(3, 4))
    for index in range(rng.randint(0, 3)):
        out[f'onsets__{index}'] = _summary(
            'onsets', rng, oxidative_onset_v=rng.uniform(2.5, 4.5), scan_rate_mv_s=rng.choice([0.1, 1.0, 10.0])
        )
    if rng.random() < 0.5:
        out['ccd__sym'] = _summary('ccd', rng, n_half_cycles=20, sudden_drop_last_stable_ma_cm2=rng.uniform(0.1, 2))
    return out


def _numbers(summaries: dict[str, dict], labels: list[str]) -> dict:
    return headline_numbers([summaries[label] for label in labels])


@pytest.mark.parametrize('seed', range(40))
def test_the_subset_gives_the_same_headline_numbers(seed):
    rng = random.Random(seed)
    summaries = _pellet(rng, rng.randint(1, 60)) if seed % 2 == 0 else _cycled(rng)
    if seed % 5 == 0:  # a cell with both kinds of records
        summaries.update(_cycled(rng))
    kept = headline_inputs(summaries)
    assert kept == sorted(kept) and set(kept) <= set(summaries)
    assert _numbers(summaries, kept) == _numbers(summaries, sorted(summaries))
    every_flag = [s['uuid'] for s in summaries.values() if s.get('flags')]
    assert {summaries[label]['uuid'] for label in kept} >= set(every_flag)


def test_a_long_temperature_series_links_about_a_third_of_its_summaries():
    rng = random.Random(7)
    summaries = _pellet(rng, 60)
    for item in summaries.values():
        item.pop('flags', None)
    kept = headline_inputs(summaries)
    # every impedance fit (their quality is counted), the Arrhenius fit, the conductivity near 25 degC at most
    assert 60 <= len(kept) <= 62 < len(summaries) == 181
    assert not any(label.startswith('drt__') for label in kept)


def test_all_are_kept_when_a_picked_summary_holds_no_number():
    """The cycling record with the most cycles holds no number: the full set reports none, but without it the
    pick would fall on a flagged record that holds some; so nothing is left out."""
    rng = random.Random(0)
    empty = {'analysis': 'cycling', 'uuid': 'a' * 32, 'n_cycles': None}
    flagged = {
        'analysis': 'cycling',
        'uuid': 'b' * 32,
        'initial_discharge_capacity_mah_g_active': 120.0,
        'flags': [{'flag': 'short', 'reason': 'generated'}],
    }
    summaries = {'cycling__a': empty, 'cycling__b': flagged, 'drt__x': _summary('drt', rng)}
    summaries['drt__x'].pop('flags', None)
    assert 'initial_discharge_capacity_mah_g' not in headline_numbers(list(summaries.values()))
    assert headline_inputs(summaries) == sorted(summaries)
