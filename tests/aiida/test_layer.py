"""The AiiDA layer around the analyses (issue 22): an in-process analysis never waits on the runner's poll
interval, whatever the profile sets, and a re-analysis with one changed option recomputes only that analysis."""

import importlib
import time

import numpy as np
import pytest
from click.testing import CliRunner

from aiida_ssb.cli import cmd_ssb
from tests.aiida.test_impedance_workflows import (  # noqa: F401  (pellet: the fixture)
    AREA,
    THICKNESS_CM,
    cpe,
    pellet,
    rq,
    sigma_true,
    spectrum,
)

#: AiiDA's default ``runner.poll.interval`` (a profile made with plain ``verdi profile setup`` has it)
DEFAULT_POLL_INTERVAL_S = 60


def cli(*args):
    return CliRunner().invoke(cmd_ssb, [str(a) for a in args], catch_exceptions=False)


def import_spectra(tmp_path, temperatures_c):
    """Impedance spectra of the pellet ``PEL`` (conductivity 1e-3 S/cm at 25 degC), imported as CSV files."""
    for index, t_c in enumerate(temperatures_c):
        r_bulk = THICKNESS_CM / (sigma_true(t_c) * AREA)
        record = spectrum([rq(r_bulk, 2e-10, 0.92), cpe(2e-6, 0.85)], f=np.logspace(7, -1, 41), seed=index)
        path = tmp_path / f'PEL_{index}.csv'
        columns = record.columns
        np.savetxt(
            path,
            np.column_stack([columns['frequency_hz'], columns['z_real_ohm'], columns['z_imag_ohm']]),
            delimiter=',',
        )
        result = cli('import-file', path, '--cell', 'PEL', '--temperature', f'{t_c} degC', '--technique', 'peis')
        assert result.exit_code == 0, result.output


def latest_run(cell):
    from aiida import orm

    query = orm.QueryBuilder().append(orm.Node, filters={'id': cell.pk}, tag='cell')
    query.append(
        orm.WorkChainNode, with_incoming='cell', filters={'process_type': {'like': '%ssb.cell_analysis'}}, tag='run'
    )
    return query.order_by({'run': {'ctime': 'desc'}}).first(flat=True)


def analyses_of(run) -> dict[str, list]:
    """analysis name -> the ``analyse_*`` calcfunctions the cell-analysis run called, in order."""
    found: dict[str, list] = {}
    for child in sorted(run.called, key=lambda node: node.ctime):
        kind = (child.process_type or '').rsplit('ssb.analyse.', 1)
        if len(kind) == 2:
            found.setdefault(kind[1], []).append(child)
    return found


def test_in_process_analysis_never_sleeps_on_the_poll_interval(pellet, tmp_path, monkeypatch):  # noqa: F811
    """On a profile with the 60 s default (not the 0 s AiiDA gives test profiles), analysing one cell never
    sleeps on it: the cell analysis calls its calcfunctions directly, so no parent waits for a child by polling
    (with a workchain calling a workchain, `analyse` took 61 s per cell here, 1-2 s without the wait)."""
    from aiida.manage import get_manager

    for module in ('aiida_ssb.calculations.impedance', 'aiida_ssb.workflows.cell'):
        importlib.import_module(module)  # imports are not what this test times

    import_spectra(tmp_path, [25.0])
    manager = get_manager()
    profile = manager.get_profile()
    before = profile.options.get('runner.poll.interval')
    monkeypatch.setattr(profile, 'is_test_profile', False)  # a test profile always polls at 0 s
    profile.set_option('runner.poll.interval', DEFAULT_POLL_INTERVAL_S)
    manager.reset_runner()
    try:
        assert manager.get_runner()._poll_interval == DEFAULT_POLL_INTERVAL_S  # the runner `analyse` gets
        start = time.perf_counter()
        result = cli('analyse', 'PEL')
        seconds = time.perf_counter() - start
    finally:
        if before is None:
            profile.options.pop('runner.poll.interval', None)
        else:
            profile.set_option('runner.poll.interval', before)
        manager.reset_runner()
    assert result.exit_code == 0 and 'PEL: analysed' in result.output, result.output
    assert pellet.base.extras.get('ssb')['conductivity_25c_s_cm'] == pytest.approx(1e-3, rel=0.05)
    # a parent that waited for a child by polling would have slept a whole interval: 60 s at least
    assert seconds < DEFAULT_POLL_INTERVAL_S, f'one cell took {seconds:.1f} s: something waited on the poll'


@pytest.mark.heavy
def test_reanalysis_recomputes_only_the_changed_analysis(pellet, tmp_path):  # noqa: F811
    """`analyse`, then `reanalyse --set arrhenius.form=sigma`: only the Arrhenius calcfunction runs again; every
    impedance fit and conductivity comes from the cache (each named as the cached copy of the first run's)."""
    import_spectra(tmp_path, [0.0, 25.0, 50.0])
    assert cli('analyse', 'PEL').exit_code == 0
    first = analyses_of(latest_run(pellet))
    assert len(first['eis_fit']) == 3 and len(first['conductivity']) == 3 and len(first['arrhenius']) == 1
    assert first['arrhenius'][0].outputs.summary['form'] == 'sigma_t'

    result = cli('reanalyse', 'PEL', '--set', 'arrhenius.form=sigma')
    assert result.exit_code == 0 and 'PEL: analysed' in result.output, result.output
    again = analyses_of(latest_run(pellet))
    assert sorted(again) == sorted(first), 'the same analyses ran'
    (arrhenius,) = again['arrhenius']
    assert not arrhenius.base.caching.is_created_from_cache
    assert '_aiida_cached_from' not in arrhenius.base.extras.keys()
    assert arrhenius.outputs.summary['form'] == 'sigma'
    for name, nodes in again.items():
        if name == 'arrhenius':
            continue
        for node, earlier in zip(nodes, first[name]):
            assert node.base.caching.is_created_from_cache, f'{name} {node.label} was recomputed'
            assert node.base.extras.get('_aiida_cached_from') == earlier.uuid
            assert node.outputs.summary.get_dict() == earlier.outputs.summary.get_dict()
