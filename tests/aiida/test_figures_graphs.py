"""Figures and provenance graphs that read at a glance (issue 19, points 7 and 8): what each figure says about its
record, legends that cover no data, whole-number cycle ticks, spectra in measurement order, a temperature series
normalised, human axis labels, rate tests kept out of retention overlays; graphs without parameter boxes, with
amounts on the edges, one record node per file, no duplicated subgraph after a re-analysis, the raw file shown."""

import pathlib
import re

import numpy as np
import pytest
from click.testing import CliRunner

from aiida_ssb.cli import cmd_ssb
from aiida_ssb.exceptions import InputError

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / 'examples' / 'manifests' / 'seed000_nvopf_4v.yaml'
K_B = 8.617333262e-5


def _invoke(*args):
    return CliRunner().invoke(cmd_ssb, [str(a) for a in args], catch_exceptions=False)


def _texts(legend):
    return [text.get_text() for text in legend.get_texts()]


def _overlaps(first, second) -> bool:
    return not (first.x1 <= second.x0 or second.x1 <= first.x0 or first.y1 <= second.y0 or second.y1 <= first.y0)


# ------------------------------------------------------------------------------------------------ pure figures
def _cycling(n=30, rate_test=None):
    cycle = np.arange(1, n + 1)
    discharge = 120.0 * (1 - 0.004 * cycle)
    curves = {
        'cycle__cycle': cycle,
        'cycle__discharge_capacity_mah_g_active': discharge,
        'cycle__charge_capacity_mah_g_active': discharge * 1.01,
        'cycle__coulombic_efficiency_percent': np.full(n, 99.0),
        'cycle__capacity_retention_percent': 100 * discharge / discharge[2],
    }
    blocks = [{'kind': 'formation', 'first_cycle': 1, 'last_cycle': 2, 'n_cycles': 2, 'c_rate': 0.1}]
    if rate_test:
        first, last = rate_test
        steps = [
            {'first_cycle': k, 'last_cycle': k + 1, 'n_cycles': 2, 'c_rate': rate}
            for k, rate in zip(range(first, last, 2), (0.1, 0.2, 0.5, 1.0, 2.0, 5.0))
        ]
        blocks.append(
            {
                'kind': 'rate_test',
                'first_cycle': first,
                'last_cycle': last,
                'n_cycles': last - first + 1,
                'steps': steps,
            }
        )
        if last < n:
            blocks.append({'kind': 'long_term', 'first_cycle': last + 1, 'last_cycle': n, 'n_cycles': n - last})
    else:
        blocks.append({'kind': 'long_term', 'first_cycle': 3, 'last_cycle': n, 'n_cycles': n - 2, 'c_rate': 0.2})
    summary = {'reference_cycle': 3, 'capacity_retention_percent_at_end': 89.6, 'blocks': blocks}
    return curves, summary


def test_capacity_plot_has_ce_in_its_legend_below_the_data_and_whole_cycle_ticks():
    from aiida_ssb.plotting.cycling import plot_capacity

    curves, summary = _cycling()
    figure = plot_capacity(curves, summary=summary, title='FC-1: capacity', caption='file a.mpt · C/5 · 25\u00a0°C')
    figure.canvas.draw()
    legend = figure.legends[0]
    texts = _texts(legend)
    assert texts[:3] == ['discharge capacity', 'charge capacity', 'coulombic efficiency (right axis)']
    assert texts[3] == 'retention reference: cycle 3 (retention at end 89.6 %)'
    ax = figure.axes[0]
    renderer = figure.canvas.get_renderer()
    # the legend lies outside the axes: it covers no point, cycle 1 included
    assert not _overlaps(legend.get_window_extent(renderer), ax.get_window_extent(renderer))
    ticks = [tick for tick in ax.get_xticks() if ax.get_xlim()[0] <= tick <= ax.get_xlim()[1]]
    assert ticks and all(float(tick).is_integer() for tick in ticks)
    assert ax.get_title() == 'FC-1: capacity\nfile a.mpt · C/5 · 25\u00a0°C'


def test_capacity_plot_marks_the_rates_of_a_rate_test():
    from aiida_ssb.plotting.cycling import plot_capacity

    curves, summary = _cycling(12, rate_test=(1, 12))
    figure = plot_capacity(curves, summary=summary)
    assert 'rate test (cycles 1 to 12)' in _texts(figure.legends[0])
    assert [t.get_text() for t in figure.axes[0].texts] == ['C/10', 'C/5', 'C/2', '1C', '2C', '5C']


def test_retention_overlay_leaves_out_a_rate_test_and_greys_a_rate_block():
    from aiida_ssb.plotting.cycling import plot_retention

    ageing, ageing_summary = _cycling(40)
    rate, rate_summary = _cycling(12, rate_test=(1, 12))
    mixed, mixed_summary = _cycling(60, rate_test=(3, 14))
    figure = plot_retention(
        [('A (3 MPa)', ageing, ageing_summary), ('RATE', rate, rate_summary), ('MIXED', mixed, mixed_summary)],
        title='campaign: capacity retention',
    )
    assert _texts(figure.legends[0]) == ['A (3 MPa)', 'MIXED']
    title = figure.axes[0].get_title()
    assert 'left out as rate tests (capacity falls with the rate, not with age): RATE' in title.replace('\n', ' ')
    assert 'grey: the rate-test cycles of MIXED' in title.replace('\n', ' ')
    mixed_line = figure.axes[0].lines[1]
    assert np.isnan(mixed_line.get_ydata()[2:14]).all() and np.isfinite(mixed_line.get_ydata()[14:]).all()


def test_nyquist_overlay_of_a_temperature_series_is_normalised_and_says_so():
    from aiida_ssb.plotting.impedance import OverlaySpectrum, choose_nyquist_scale, plot_nyquist_overlay

    f = np.logspace(6, -1, 40)
    w = 2j * np.pi * f
    spectra = []
    for label, r in (('-20 °C', 1e5), ('25 °C', 2e3), ('80 °C', 1e2)):
        z = r / (1 + r * 1e-10 * w) + 1 / (1e-6 * w**0.85)
        spectra.append(OverlaySpectrum(f, z, label, resistance_ohm=r))
    assert choose_nyquist_scale(spectra) == ('normalised', pytest.approx(3.0))
    figure = plot_nyquist_overlay(spectra, title='PEL: 3 impedance spectra')
    ax = figure.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Z' / R", "-Z'' / R")
    title = ax.get_title().replace('\n', ' ')
    assert 'each spectrum divided by its resistance R (their resistances span 3.0 decades)' in title
    assert _texts(figure.legends[0]) == ['-20 °C (R = 100 kΩ)', '25 °C (R = 2 kΩ)', '80 °C (R = 100 Ω)']
    # each arc ends near Z'/R = 1, whatever its size
    for line in ax.lines[::1]:
        x = np.asarray(line.get_xdata())
        assert np.nanmin(np.abs(x - 1.0)) < 0.05
    linear = plot_nyquist_overlay(spectra[1:2] + spectra[1:2], scale='auto')
    assert linear.axes[0].get_xlabel() == "Z' / Ω"
    logarithmic = plot_nyquist_overlay(spectra, scale='log', area_cm2=0.785)
    assert logarithmic.axes[0].get_xscale() == 'log' and logarithmic.axes[0].get_xlabel() == "Z' / Ω cm²"


def test_field_labels_are_meanings_with_units():
    from aiida_ssb.plotting.figures import field_label

    assert field_label('conductivity_25c_s_cm') == 'ionic conductivity at 25 °C / S cm$^{-1}$'
    assert field_label('electrolyte.ball_milling.duration_min') == 'electrolyte, ball milling: duration / min'
    assert field_label('stack_pressure_mpa') == 'applied stack pressure during test / MPa'
    assert field_label('capacity_retention_percent_at_end').endswith(' / %')
    assert '_' not in field_label('mass_loading_mg_cm2')


def test_captions_name_file_rate_and_temperature():
    from types import SimpleNamespace

    from aiida_ssb.plotting.common import c_rate_text
    from aiida_ssb.plotting.figures import cycling_caption, record_caption

    assert [c_rate_text(r) for r in (0.1, 0.2, 1.0, 2.0, 0.333, 0.4)] == ['C/10', 'C/5', '1C', '2C', 'C/3', '0.4C']
    _, summary = _cycling(100)
    assert cycling_caption(summary) == 'formation C/10 (cycles 1 to 2), long term C/5 (cycles 3 to 100)'
    record = SimpleNamespace(
        technique='gcpl',
        base=SimpleNamespace(
            attributes=SimpleNamespace(
                all={'source_filename': 'x.mpt', 'settings': {'c_rate': 0.5}, 'temperature_c': 60.0}
            )
        ),
    )
    assert record_caption(record) == 'file x.mpt · C/2 · 60\u00a0°C'


# ------------------------------------------------------------------------------------------------ with a profile
def _spectra_file(path, resistances, points=25, seed=0):
    """A CSV of several spectra one after another (the frequency restarts at each), an RC arc and a blocking
    electrode each."""
    rng = np.random.default_rng(seed)
    rows = []
    f = np.logspace(6, -1, points)
    w = 2j * np.pi * f
    for r in resistances:
        z = r / (1 + r * 2e-10 * w**0.95) + 1 / (2e-6 * w**0.85)
        z = z * (1 + 0.002 * rng.normal(size=f.size))
        rows.append(np.column_stack([f, z.real, z.imag]))
    np.savetxt(path, np.vstack(rows), delimiter=',')
    return path


@pytest.fixture(scope='module')
def pellets(aiida_profile, tmp_path_factory):
    """A pellet with one file of 12 spectra, and a pellet with a temperature series over three decades, both
    analysed twice (the second run comes from the cache: new nodes, the same numbers)."""
    aiida_profile.reset_storage()
    folder = tmp_path_factory.mktemp('spectra')
    manifest = folder / 'manifest.yaml'
    manifest.write_text(
        'campaign: figures\n'
        'materials:\n'
        '  - {id: SE, role: electrolyte}\n'
        '  - {id: C, role: carbon}\n'
        'cells:\n'
        + ''.join(
            f'  - id: {cell}\n'
            '    format: blocking_pellet\n'
            '    diameter: 10 mm\n'
            '    layers:\n'
            '      - {role: blocking_electrode, material: C}\n'
            '      - {role: electrolyte, material: SE, thickness: 500 um}\n'
            '      - {role: blocking_electrode, material: C}\n'
            for cell in ('PEL-MANY', 'PEL-T')
        )
    )
    assert _invoke('import', manifest).exit_code == 0
    many = _spectra_file(folder / 'many.csv', [1000.0 * (1 + 0.1 * k) for k in range(12)], points=18)
    result = _invoke('import-file', many, '--cell', 'PEL-MANY', '--technique', 'peis', '--temperature', '25 degC')
    assert result.exit_code == 0, result.output
    for index, t_c in enumerate((-40.0, 25.0, 100.0)):
        t = t_c + 273.15
        r = 2000.0 * np.exp(0.45 / K_B * (1 / t - 1 / 298.15))
        path = _spectra_file(folder / f'series_{index}.csv', [r], seed=index)
        result = _invoke('import-file', path, '--cell', 'PEL-T', '--technique', 'peis', '--temperature', f'{t_c} degC')
        assert result.exit_code == 0, result.output
    for _ in range(2):  # one circuit, not the whole candidate family: the fits are not what is tested here
        result = _invoke('analyse', 'PEL-MANY', 'PEL-T', '--set', 'eis_fit.circuit=p(R1,CPE1)-CPE2')
        assert result.exit_code == 0, result.output
    return folder


@pytest.mark.heavy
def test_nyquist_of_many_spectra_in_numeric_order_with_a_correct_title(pellets):
    from aiida_ssb.plotting.figures import cell_figure

    figure = cell_figure('PEL-MANY', 'nyquist')
    ax = figure.axes[0]
    title = ax.get_title()
    assert title.startswith('PEL-MANY: 12 impedance spectra\nfile many.csv, 25 °C')
    labels = [text for text in _texts(figure.legends[0]) if ':' not in text]
    assert labels == [f'#{k}' for k in range(12)]  # #0, #1, #2 ... #11: numbers, not text order
    single = cell_figure('PEL-MANY', 'nyquist', index=10)
    assert single.axes[0].get_title().startswith('PEL-MANY: PEIS spectrum #10\nfile many.csv #10')
    assert 'spectra' not in single.axes[0].get_title()
    bode = cell_figure('PEL-MANY', 'bode', index=2)
    assert bode.axes[0].get_title().startswith('PEL-MANY: PEIS spectrum #2\n')
    assert bode.axes[0].get_title().count('PEL-MANY') == 1


@pytest.mark.heavy
def test_nyquist_of_a_temperature_series_is_normalised_and_a_record_can_be_chosen(pellets):
    from aiida_ssb.data.measurements import ImpedanceSpectrumData
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.plotting.figures import cell_figure
    from aiida_ssb.query.records import measurements_of_cell

    figure = cell_figure('PEL-T', 'nyquist')
    ax = figure.axes[0]
    assert ax.get_xlabel() == "Z' / R"
    assert 'their resistances span' in ax.get_title().replace('\n', ' ')
    assert [t.split(' (R =')[0] for t in _texts(figure.legends[0]) if '(R =' in t] == ['-40 °C', '25 °C', '100 °C']
    assert cell_figure('PEL-T', 'nyquist', nyquist_scale='linear').axes[0].get_xlabel() == "Z' / Ω cm²"
    warm = next(
        node
        for node in measurements_of_cell(load_sample('PEL-T'), (ImpedanceSpectrumData,))
        if node.base.attributes.get('temperature_c') == 100.0
    )
    chosen = cell_figure('PEL-T', 'bode', record=warm)
    assert 'file series_2.csv · 100\u00a0°C' in chosen.axes[0].get_title()
    assert 'R = ' not in chosen.axes[0].get_title()
    other = measurements_of_cell(load_sample('PEL-MANY'), (ImpedanceSpectrumData,))[0]
    with pytest.raises(InputError, match=r'PEL-T: the record many.csv has no drt result \(these records have one: '):
        cell_figure('PEL-T', 'drt', record=other)
    with pytest.raises(InputError, match='PEL-T has no cycling result yet'):
        cell_figure('PEL-T', 'capacity')


@pytest.mark.heavy
def test_plot_command_writes_the_figure(pellets, tmp_path):
    result = _invoke('plot', 'PEL-T', '--kind', 'nyquist', '--nyquist-scale', 'log', '-o', tmp_path / 'n.png')
    assert result.exit_code == 0 and (tmp_path / 'n.png').stat().st_size > 10000, result.output


@pytest.mark.heavy
def test_campaign_scatter_names_its_axes_and_keeps_its_title_inside(pellets):
    from aiida_ssb.plotting.figures import campaign_figure

    figure = campaign_figure('figures', 'scatter', x='electrolyte_thickness_um', y='conductivity_25c_s_cm')
    ax = figure.axes[0]
    assert ax.get_xlabel() == 'electrolyte/separator layer thickness / µm'
    assert ax.get_ylabel() == 'ionic conductivity at 25 °C / S cm$^{-1}$'
    assert '_' not in ax.get_title()
    figure.canvas.draw()
    title = ax.title.get_window_extent(figure.canvas.get_renderer())
    width, height = figure.canvas.get_width_height()
    assert title.x0 >= 0 and title.x1 <= width and title.y1 <= height  # not cut off


def _dot(*args, tmp_path):
    target = tmp_path / 'graph.dot'
    result = _invoke('graph', *args, '-o', target, '--force')
    assert result.exit_code == 0, result.output
    source = target.read_text()
    labels = re.findall(r'\[label="([^"]*)"', source)
    nodes = [label for label in labels if not re.search(r'^\s*N\d+ -> ', label)]
    edges = re.findall(r'N\d+ -> N\d+ \[label="?([^"\]]*)"?\]', source)
    return source, nodes, edges, result.output


@pytest.mark.heavy
def test_graph_of_many_spectra_is_one_record_node_with_its_file_and_no_duplicates(pellets, tmp_path):
    source, _, edges, output = _dot('PEL-MANY', '--what', 'measurements', tmp_path=tmp_path)
    node_lines = [line for line in source.splitlines() if re.match(r'\s*N\d+ \[', line)]
    assert len(node_lines) <= 8, source  # not 12 spectra + 12 parses + 24 fits ... (and no second copy)
    assert 'Wrote' in output and f'({len(node_lines)} nodes)' in output
    assert 'PEIS: 12 spectra' in source and '25 °C' in source
    assert 'raw file\nmany.csv' in source
    assert 'eis fit × 12' in source and '(+12 earlier runs, not drawn)' in source
    assert 'Dict (' not in source and 'CurvesData' not in source
    assert '12 spectra' in edges and 'measured' in edges and 'read' in edges
    series, _, _, _ = _dot('PEL-T', '--what', 'measurements', tmp_path=tmp_path)
    assert 'PEIS spectrum' in series and 'arrhenius' in series and 'cell summary' in series
    assert series.count('arrhenius') == 1  # the second run is counted, not drawn
    shallow, _, _, _ = _dot('PEL-T', '--what', 'measurements', '--depth', '1', tmp_path=tmp_path)
    assert 'eis fit' not in shallow and 'raw file' in shallow


@pytest.mark.heavy
def test_synthesis_graph_folds_parameters_into_steps_and_puts_amounts_on_edges(aiida_profile_clean, tmp_path):
    assert _invoke('import', EXAMPLE).exit_code == 0
    source, _, edges, _ = _dot('FC-01', '--what', 'synthesis', tmp_path=tmp_path)
    assert 'Dict' not in source
    assert 'mixing\nmethod mortar, duration 15 min' in source
    assert 'ball milling\nmill Spex 8000M' in source
    for amount in ('75 wt%', '15 wt%', '10 wt%', '2 mol', '1 mol', 'positive layer, 2 mg', 'separator layer, 80 mg'):
        assert amount in edges, edges
    assert any(edge.endswith('70 parts, host') for edge in edges), edges  # '93.3 wt%, 70 parts, host'
    assert not any(re.search(r'_2d|_5f', edge) for edge in edges), edges  # no link-label ids
    assert 'NVOPF | Na4' not in source  # names and ids of the cell are not repeated in its step
    one_step, _, _, _ = _dot('FC-01', '--what', 'synthesis', '--depth', '1', tmp_path=tmp_path)
    assert 'cell assembly' in one_step and 'mixing' not in one_step


def test_drt_overlay_is_normalised_and_names_the_window_once():
    from aiida_ssb.plotting.impedance import plot_drt

    tau = np.logspace(-8, 2, 200)
    figure = None
    for label, size, centre in (('-40 °C', 1e6, 1e-4), ('80 °C', 10.0, 1e-6)):
        curves = {
            'tau_s': tau,
            'gamma_ohm': size * np.exp(-((np.log10(tau) - np.log10(centre)) ** 2) / 0.1),
            'frequency_hz': np.logspace(6, -1, 30),
        }
        summary = {'peaks': [{'tau_s': centre, 'resistance_ohm': size}]}
        figure = plot_drt(
            summary, curves, figure_axes=(figure, figure.axes[0]) if figure else None, label=label, normalise=True
        )
    ax = figure.axes[0]
    assert ax.get_ylabel() == 'γ / γ$_{max}$ (each spectrum)'
    assert [max(line.get_ydata()) for line in ax.lines if line.get_label() in ('-40 °C', '80 °C')] == [
        pytest.approx(1.0, abs=0.01),
        pytest.approx(1.0, abs=0.01),
    ]
    assert [patch.get_label() for patch in ax.patches].count('measured window') == 1
    assert len(ax.texts) == 0  # no peak annotations piled on each other
