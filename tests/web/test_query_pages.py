"""The read-only query helpers behind the web page: paging, plot data, result digests, provenance, and the GET
routes of the application (no write endpoint)."""

from __future__ import annotations

import csv
import io
import math

import pytest

from tests.web.conftest import ODD_ID, PELLET

pytestmark = pytest.mark.slow  # one small lab built per module (import and one analysis)


def test_page_equals_the_table_in_every_order(lab):
    from aiida_ssb.query.paging import table_page
    from aiida_ssb.query.tables import cells

    columns = ['sample_id', 'stack_pressure_mpa', 'electrolyte_thickness_um', 'conductivity_25c_s_cm']
    full = cells(columns=columns)
    for sort in columns:
        for descending in (False, True):
            pages = []
            for offset in range(0, len(full), 3):
                page = table_page('cells', columns=columns, sort=sort, descending=descending, offset=offset, limit=3)
                assert page.total == len(full) and page.exact_paging
                pages.extend(page.rows)
            assert sorted(r['sample_id'] for r in pages) == sorted(full['sample_id'])  # every row once
            values = [r[sort] for r in pages]
            present = [v for v in values if v is not None]
            assert values[: len(present)] == present, f'{sort}: rows without a value come last'
            assert present == sorted(present, reverse=descending), f'{sort} {descending}'


def test_page_filters_as_the_cli(lab):
    from aiida_ssb.query.paging import table_page
    from aiida_ssb.query.tables import QueryError, cells

    for filters in (['electrolyte_thickness_um > 450'], ['conductivity_25c_s_cm > 1e-9'], ['format == symmetric']):
        page = table_page('cells', filters=filters, limit=100)
        assert {r['sample_id'] for r in page.rows} == set(cells(filters=filters)['sample_id'])
    lineage = table_page(
        'cells',
        filters=['electrolyte.ball_milling.duration_min >= 30'],
        columns=['sample_id', 'electrolyte.ball_milling.duration_min'],
        limit=100,
    )
    assert not lineage.exact_paging and lineage.total == len(lineage.rows) > 0
    assert all(r['electrolyte.ball_milling.duration_min'] >= 30 for r in lineage.rows)
    assert PELLET in {r['sample_id'] for r in lineage.rows} and 'PEL-NCB-15' not in {
        r['sample_id'] for r in lineage.rows
    }
    samples = table_page(
        'samples', filters=['ball_milling.duration_min >= 30'], columns=['sample_id', 'role'], limit=100
    )
    assert 'MM-NCB-30' in {r['sample_id'] for r in samples.rows} and 'MM-NCB-15' not in {
        r['sample_id'] for r in samples.rows
    }
    with pytest.raises(QueryError, match='unknown cell field'):
        table_page('cells', filters=['no_such_field > 1'])
    with pytest.raises(QueryError):
        table_page('cells', filters=['__import__("os").system("true")'])


def test_plot_data_of_an_analysed_pellet(lab):
    from aiida_ssb.query.plotdata import available_plots, plot_data, spectra_of

    plots = available_plots(PELLET)
    assert set(plots) == {'nyquist', 'bode', 'arrhenius'}
    spectra = spectra_of(PELLET)
    assert len(spectra) == len(plots['nyquist']) == 4 and all(s['fit'] is not None for s in spectra)
    nyquist = plot_data(PELLET, 'nyquist', 2)
    names = [s.name for s in nyquist.panels[0].series]
    assert names[0] == 'data' and names[1] in ('fit', 'rejected fit')
    data = nyquist.panels[0].series[0]
    assert len(data.x) == len(data.y) == spectra[2]['spectrum'].get_shape('frequency_hz')[0]
    bode = plot_data(PELLET, 'bode', 0)
    assert [p.x_log for p in bode.panels] == [True, True, True] and bode.panels[2].series  # residuals
    arrhenius = plot_data(PELLET, 'arrhenius')
    assert any('Ea = ' in s.name for s in arrhenius.panels[0].series)
    for series in arrhenius.panels[0].series:
        assert all(v is None or math.isfinite(v) for v in series.y)


def test_overview_digests_results(lab):
    from aiida_ssb.query.overview import digest, history_differences, overview, raw_files

    info = overview(PELLET)
    assert info.kind == 'cell' and 'seed004-milling-series' in info.campaigns
    assert any('ball_milling' in line for line in info.history)
    analyses = {d.analysis for d in info.results}
    assert {'eis_fit', 'conductivity', 'arrhenius'} <= analyses
    arrhenius = next(d for d in info.results if d.analysis == 'arrhenius')
    assert 'activation_energy_ev' in arrhenius.values and arrhenius.intervals['activation_energy_ev'].startswith('±')
    assert len(raw_files(PELLET)) == 4
    made_up = digest(
        {
            'analysis': 'x',
            'method': 'm',
            'value_v': 1.0,
            'value_stderr_v': 0.1,
            'chi2_over_z': 0.2,
            'flags': [{'rule': 'r', 'passed': False, 'reason': 'why'}],
            'accepted': False,
        }
    )
    assert made_up.values == {'method': 'm', 'value_v': 1.0} and made_up.intervals == {'value_v': '± 0.1'}
    assert made_up.quality == {'chi2_over_z': 0.2}
    assert [f['name'] for f in made_up.flags] == ['r', 'rejected']
    rows = history_differences([PELLET, 'PEL-NCB-45'])
    facts = {row['fact']: row for row in rows}
    assert facts['electrolyte.ball_milling.duration_min'][PELLET] == 30.0
    assert facts['electrolyte.ball_milling.duration_min']['PEL-NCB-45'] == 45.0


def test_provenance_graph_and_path(lab):
    from aiida_ssb.query.provenance import expand, node_details, path_between, sample_graph

    nodes, edges = sample_graph(PELLET)
    ids = {n['id'] for n in nodes}
    assert all(e['source'] in ids and e['target'] in ids for e in edges)
    milling = next(n for n in nodes if n['kind'] == 'step' and n['label'] == 'ball_milling')
    assert node_details(milling['id'])['parameters']['parameters']['duration_min'] == 30.0
    groups = [n for n in nodes if n['kind'] == 'group']
    assert groups and len(groups[0]['members']) == 4  # the four spectra's parse steps, collapsed
    workflow = next(n for n in nodes if n['kind'] == 'workflow')  # analyses collapsed into their workflow
    assert not any(n['kind'] == 'analysis' for n in nodes)
    summary = next(n for n in nodes if n['kind'] == 'result' and n['label'] == 'cell summary')
    path = path_between(milling['id'], summary['id'])
    shown = [step['display'] for step in path]
    assert shown[0] == milling['id'] and shown[-1] == summary['id'] and workflow['id'] in shown
    assert path_between(summary['id'], milling['id']) == []  # a path runs from the cause to the result
    full, _ = expand(workflow['id'], 'upstream', collapse=True)
    assert any(n.get('sample_id') == PELLET for n in full)


def test_routes_are_read_only(lab):
    pytest.importorskip('dash')
    from aiida import orm

    from aiida_ssb.web import create_app, is_loopback

    client = create_app('test').server.test_client()
    response = client.get(
        '/download/cells.csv?where=electrolyte_thickness_um%20%3E%20450&columns=sample_id,electrolyte_thickness_um'
    )
    assert response.status_code == 200 and response.mimetype == 'text/csv'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and all(float(r['electrolyte_thickness_um']) > 450 for r in rows)
    assert client.get('/download/cells.csv?where=bad%20filter').status_code == 400
    assert client.get('/download/nodes.csv').status_code == 404
    raw = orm.QueryBuilder().append(orm.SinglefileData, project='*').first(flat=True)
    response = client.get(f'/download/raw/{raw.uuid}')
    with raw.open(mode='rb') as handle:
        assert response.status_code == 200 and response.data == handle.read()
    a_dict = orm.QueryBuilder().append(orm.Dict, project='uuid').first(flat=True)
    assert client.get(f'/download/raw/{a_dict}').status_code == 404  # only raw files are served
    assert client.post('/download/cells.csv').status_code == 405
    assert client.delete(f'/download/raw/{raw.uuid}').status_code == 405
    count = orm.QueryBuilder().append(orm.Node).count()
    assert client.get(f'/sample/{ODD_ID}').status_code == 200
    assert orm.QueryBuilder().append(orm.Node).count() == count
    assert is_loopback('127.0.0.1') and is_loopback('::1') and is_loopback('localhost')
    assert not is_loopback('0.0.0.0') and not is_loopback('192.168.1.5') and not is_loopback('example.org')


def test_serve_warns_off_loopback(lab, monkeypatch):
    pytest.importorskip('dash')
    from click.testing import CliRunner

    import aiida_ssb.web
    from aiida_ssb.cli import cmd_ssb

    calls = []
    monkeypatch.setattr(aiida_ssb.web, 'serve', lambda **kwargs: calls.append(kwargs))
    result = CliRunner().invoke(cmd_ssb, ['serve', '--host', '0.0.0.0', '--port', '8999'])
    assert result.exit_code == 0 and 'WARNING' in result.output and calls[0]['host'] == '0.0.0.0'
    result = CliRunner().invoke(cmd_ssb, ['serve'])
    assert result.exit_code == 0 and 'WARNING' not in result.output and calls[1]['host'] == '127.0.0.1'
