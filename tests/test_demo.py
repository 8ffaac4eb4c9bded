"""The demonstration reproduces the seed papers' numbers (reduced data set), and is idempotent."""

import pytest
from aiida import orm

from aiida_ssb.demo import CHECKS, analyse_campaigns, evaluate_checks, generate_campaigns, import_campaigns


@pytest.fixture(scope='module')
def demo(aiida_profile, tmp_path_factory):
    aiida_profile.reset_storage()
    folder = tmp_path_factory.mktemp('demo')
    manifests = generate_campaigns(folder, reduced=True)
    import_campaigns(manifests)
    nodes = analyse_campaigns()
    return folder, manifests, nodes


def test_every_cell_analysis_finishes(demo):
    _, _, nodes = demo
    failed = {node.inputs.cell.sample_id: node.exit_message for node in nodes if not node.is_finished_ok}
    assert not failed, failed


@pytest.mark.parametrize('index', range(len(CHECKS)), ids=[f'{c.seed}: {c.quantity}' for c in CHECKS])
def test_paper_number_is_reproduced(demo, index):
    folder, _, _ = demo
    check = evaluate_checks(folder / 'expected.json')[index]
    assert check.computed is not None, f'{check.quantity}: not computed'
    assert check.ok, (
        f'{check.quantity}: paper {check.paper} {check.unit}, demo {check.computed:.5g} (tolerance {check.tolerance})'
    )


def test_demo_is_idempotent(demo):
    folder, _manifests, _ = demo
    count = orm.QueryBuilder().append(orm.Node).count()
    assert all(stored == 0 for stored in import_campaigns(generate_campaigns(folder, reduced=True)).values())
    assert analyse_campaigns() == []
    assert orm.QueryBuilder().append(orm.Node).count() == count


# ---------------------------------------------------------------------------------------------- whole-cell use
def cli(*args):
    from click.testing import CliRunner

    from aiida_ssb.cli import cmd_ssb

    return CliRunner().invoke(cmd_ssb, [str(a) for a in args], catch_exceptions=False)


def test_query_retention_and_cutoff_across_provenance(demo):
    from aiida_ssb.query.tables import cells

    frame = cells(
        filters=['capacity_retention_percent_at_50 >= 80', 'upper_cutoff_v >= 4.0'],
        columns=['sample_id', 'capacity_retention_percent_at_50', 'upper_cutoff_v'],
    )
    assert list(frame['sample_id']) == ['NVOPF-FC-415']
    result = cli('cells', '--retention-min', 80, '--at-cycle', 50, '--upper-cutoff-min', 4.0, '--format', 'csv')
    assert result.exit_code == 0 and result.output.splitlines()[1].startswith('NVOPF-FC-415')


def test_query_upstream_milling_time(demo):
    from aiida_ssb.query.tables import cells

    frame = cells(
        filters=['electrolyte.ball_milling.duration_min >= 45'],
        columns=['sample_id', 'electrolyte.ball_milling.duration_min'],
    )
    ids = set(frame['sample_id'])
    assert {'PEL-NCB-45', 'PEL-NCB-60', 'PEL-NCB-360'} <= ids and 'PEL-NCB-30' not in ids
    assert (frame['electrolyte.ball_milling.duration_min'] >= 45).all()
    assert 'SYM-NA-MM45' in ids
    # a value with a unit is converted to the field's unit; cells without a recorded pressure never match
    frame = cells(filters=['stack_pressure_mpa < 10 bar'], columns=['sample_id', 'stack_pressure_mpa'])
    assert 'NVOPF-FC-415' in set(frame['sample_id']) and 'NVOPF-FC-HL' not in set(frame['sample_id'])
    assert (frame['stack_pressure_mpa'] < 1.0).all() and 'PEL-NCB-45' not in set(frame['sample_id'])


def test_samples_with_analysis_columns_and_literature(demo):
    from aiida_ssb.query.tables import samples

    frame = samples(
        role='electrolyte',
        columns=['sample_id', 'literature', 'conductivity_25c_s_cm', 'activation_energy_ev', 'onset_v'],
    )
    row = frame.set_index('sample_id').loc['MM-NCB-45A']
    assert row['conductivity_25c_s_cm'] == pytest.approx(4e-3, rel=0.1)
    assert frame['literature'].astype(bool).sum() >= 40
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.query.records import electrolyte_of

    electrolyte = electrolyte_of(load_sample('SSRCV-MM45')).sample_id  # the electrolyte under test in the SSRCV cell
    assert frame.set_index('sample_id').loc[electrolyte, 'onset_v'] == pytest.approx(4.14, abs=0.01)


@pytest.mark.parametrize(
    'args, fragment',
    [
        (('cells', '--where', 'retention > 80'), "unknown cell field 'retention'; fields that exist:"),
        (('cells', '--where', 'stack_pressure_mpa < 3 mAh'), 'wrong unit for stack_pressure_mpa'),
        (('cells', '--where', 'electrolyte.ball_milling.speed > 2'), "ball_milling has no parameter 'speed'"),
        (('cells', '--where', 'retention >> 3'), 'cannot read the filter'),
        (('samples', '--columns', 'sample_id,conductivity'), "unknown sample field 'conductivity'"),
    ],
)
def test_bad_filters_are_explained(demo, args, fragment):
    from click.testing import CliRunner

    from aiida_ssb.cli import cmd_ssb

    result = CliRunner().invoke(cmd_ssb, list(args))
    assert result.exit_code == 1 and fragment in result.output and 'Traceback' not in result.output


def test_reanalyse_keeps_the_old_numbers_and_compare_shows_the_change(demo):
    from aiida_ssb.cli.analysis import previous_runs
    from aiida_ssb.data.sample import load_sample

    cell = load_sample('NVOPF-FC-415')
    before = cell.base.extras.get('ssb')['capacity_retention_percent_at_end']
    result = cli('reanalyse', 'NVOPF-FC-415', '--set', 'cycling.reference=cycle:10')
    assert result.exit_code == 0, result.output
    assert (
        'cycling.reference: "first_after_formation" (manifest) -> "cycle:10" (--set)' in result.output
        or 'cycling.reference: (default) -> "cycle:10" (--set)' in result.output
    )
    after = load_sample('NVOPF-FC-415').base.extras.get('ssb')['capacity_retention_percent_at_end']
    assert after != pytest.approx(before)
    runs = previous_runs(cell)
    assert runs[1].outputs.summary['capacity_retention_percent_at_end'] == pytest.approx(before)  # old result kept
    compare = cli('compare', 'NVOPF-FC-415')
    assert 'capacity_retention_percent_at_end' in compare.output and 'Plugin version' in compare.output


def test_reanalysis_without_changes_reproduces_every_number(demo):
    from aiida_ssb.cli.analysis import previous_runs
    from aiida_ssb.data.sample import load_sample

    cell = load_sample('PEL-NCB-45')
    result = cli('reanalyse', 'PEL-NCB-45')
    assert result.exit_code == 0
    new, old = previous_runs(cell)[:2]

    def comparable(summary):
        # 'sources' and each flag's 'source' name result nodes by uuid: a re-analysis makes new nodes
        out = {k: v for k, v in summary.items() if k != 'sources'}
        out['flags'] = [{k: v for k, v in flag.items() if k != 'source'} for flag in out.get('flags', [])]
        return out

    assert comparable(old.outputs.summary.get_dict()) == comparable(new.outputs.summary.get_dict())


def test_graph_plots_and_export(demo, tmp_path):
    assert cli('graph', 'NVOPF-FC-415', '--what', 'synthesis', '-o', tmp_path / 'g.dot').exit_code == 0
    source = (tmp_path / 'g.dot').read_text()
    assert 'ball milling' in source and 'Dict' not in source  # steps by kind, parameters in their label
    for sample, kind in (
        ('PEL-NCB-45', 'nyquist'),
        ('PEL-NCB-45', 'bode'),
        ('PEL-NCB-45', 'arrhenius'),
        ('CV-NCB-C65', 'voltammogram'),
        ('NVOPF-FC-415', 'capacity'),
        ('NVOPF-FC-415', 'profiles'),
        ('NCO-SN-3E', 'profiles'),
        ('NCO-HC-RATE', 'rate'),
        ('SYM-NA-MM45', 'ccd'),
        ('LI-SYM-OCV', 'resistance'),
    ):
        result = cli('plot', sample, '--kind', kind, '-o', tmp_path / f'{sample}-{kind}.png')
        assert result.exit_code == 0, (kind, result.output)
        assert (tmp_path / f'{sample}-{kind}.png').stat().st_size > 5000
    result = cli(
        'plot',
        '--campaign',
        'seed004-milling-series',
        '--kind',
        'scatter',
        '--x',
        'electrolyte.ball_milling.duration_min',
        '--y',
        'conductivity_25c_s_cm',
        '-o',
        tmp_path / 'milling.png',
    )
    assert result.exit_code == 0, result.output
    result = cli(
        'plot',
        '--campaign',
        'seed001-infiltrated-electrodes',
        '--kind',
        'retention',
        '--label-by',
        'stack_pressure_mpa',
        '-o',
        tmp_path / 'retention.svg',
    )
    assert result.exit_code == 0, result.output
    result = cli(
        'export', '--campaign', 'seed001-infiltrated-electrodes', '--format', 'parquet', '-o', tmp_path / 'export'
    )
    assert result.exit_code == 0, result.output
    import pandas as pd

    frame = pd.read_parquet(tmp_path / 'export' / 'cells.parquet')
    assert set(frame['sample_id']) >= {'NCO-HC-70MPA', 'NCO-HC-3MPA'} and 'capacity_retention_percent_at_end' in frame
    # 3 NaCrO2 half-cell records, and the Sn half cell, the full-cell sheet's half cell, the full and the 3-electrode cell
    assert len(list((tmp_path / 'export' / 'measurements').iterdir())) == 7


def test_archive_round_trip_keeps_every_node_link_and_number(demo, tmp_path, aiida_profile):
    """Runs last in this module: it empties the profile and imports the archive back."""
    from aiida.tools.archive import create_archive, import_archive

    from aiida_ssb.query.tables import cells

    columns = [
        'sample_id',
        'format',
        'mass_loading_mg_cm2',
        'capacity_retention_percent_at_end',
        'conductivity_25c_s_cm',
        'ccd_ma_cm2',
        'oxidative_onset_v',
    ]
    before = cells(columns=columns)
    n_nodes = orm.QueryBuilder().append(orm.Node).count()
    n_links = orm.QueryBuilder().append(orm.Node, tag='a').append(orm.Node, with_incoming='a').count()
    groups = [
        orm.Group.collection.get(label=f'ssb/campaign/{label}')
        for label in (
            'seed004-milling-series',
            'seed000-4v-cell',
            'seed001-infiltrated-electrodes',
            'seed002-stability-method',
            'literature-seed003',
        )
    ]
    archive = tmp_path / 'campaigns.aiida'
    create_archive(groups, filename=str(archive))
    aiida_profile.reset_storage()
    assert orm.QueryBuilder().append(orm.Node).count() == 0
    import_archive(str(archive))
    after = cells(columns=columns)
    assert before.equals(after)
    assert orm.QueryBuilder().append(orm.Node).count() == n_nodes
    assert orm.QueryBuilder().append(orm.Node, tag='a').append(orm.Node, with_incoming='a').count() == n_links
    # and a re-analysis there reproduces the stored numbers exactly
    result = cli('reanalyse', 'NCO-HC-70MPA')
    assert result.exit_code == 0
    assert cells(columns=columns).equals(after)
