"""Records of killed in-process analyses: found, shown as stale, closed by `aiida-ssb tidy` (issue 13.18)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import ProcessState
from click.testing import CliRunner

from aiida_ssb.cli import cmd_ssb
from aiida_ssb.workflows.stale import RUNNER_EXTRA, close_stale, is_stale, stale_processes


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, '-c', 'pass'])
    process.wait()
    return process.pid


def _record(state: ProcessState, runner: dict | None, process_type='aiida.workflows:ssb.cell_analysis'):
    node = orm.WorkChainNode(process_type=process_type)
    node.set_process_state(state)
    node.store()
    if runner is not None:
        node.base.extras.set(RUNNER_EXTRA, runner)
    return node


def _child(parent: orm.WorkChainNode, state: ProcessState) -> orm.CalcFunctionNode:
    child = orm.CalcFunctionNode(process_type='aiida.calculations:ssb.analyse.cycling')
    child.set_process_state(state)
    child.base.links.add_incoming(parent, link_type=LinkType.CALL_CALC, link_label='CALL')
    return child.store()


def test_killed_in_process_run_is_found_shown_and_closed(aiida_profile_clean):
    import socket

    host = socket.gethostname()
    dead = _record(ProcessState.RUNNING, {'host': host, 'pid': _dead_pid(), 'in_process': True})
    child = _child(dead, ProcessState.RUNNING)
    finished_child = _child(dead, ProcessState.FINISHED)
    alive = _record(ProcessState.RUNNING, {'host': host, 'pid': os.getpid() + 0, 'in_process': True})
    daemon = _record(ProcessState.WAITING, {'host': host, 'pid': _dead_pid(), 'in_process': False})
    elsewhere = _record(ProcessState.RUNNING, {'host': host + '-other', 'pid': _dead_pid(), 'in_process': True})
    unknown = _record(ProcessState.RUNNING, None)

    assert is_stale(dead)
    assert not is_stale(child)  # a child has no runner of its own: it is found through its caller
    assert [node.pk for node in stale_processes()] == [dead.pk, child.pk]
    for node in (alive, daemon, elsewhere, unknown, finished_child):
        assert not is_stale(node)

    status = CliRunner().invoke(cmd_ssb, ['status'], catch_exceptions=False)
    assert 'stale' in status.output and 'aiida-ssb tidy' in status.output

    assert close_stale(dry_run=True) == [dead.pk, child.pk]
    assert dead.process_state == ProcessState.RUNNING  # a dry run changes nothing
    result = CliRunner().invoke(cmd_ssb, ['tidy'], catch_exceptions=False)
    assert result.exit_code == 0 and f'{dead.pk}, {child.pk}' in result.output
    for node in (dead, child):
        node = orm.load_node(node.pk)
        assert node.process_state == ProcessState.KILLED and node.is_sealed
        assert 'closed by `aiida-ssb tidy`' in node.process_status
    assert orm.load_node(alive.pk).process_state == ProcessState.RUNNING
    assert orm.load_node(daemon.pk).process_state == ProcessState.WAITING
    again = CliRunner().invoke(cmd_ssb, ['tidy'], catch_exceptions=False)
    assert 'No stale' in again.output


def _spectra_manifest(folder, n_spectra: int) -> None:
    f = np.logspace(6, -1, 60)
    w = 2j * np.pi * f
    lines = []
    for index in range(n_spectra):
        r = 1000.0 * (1 + index / 10)
        z = r / (1 + r * 1e-9 * w**0.9) + 1 / (1e-6 * w**0.85)
        name = f'spectrum_{index:02d}.csv'
        np.savetxt(folder / name, np.column_stack([f, z.real, z.imag]), delimiter=',')
        lines.append(f'  - {{cell: PEL, technique: eis, file: {name}, temperature: "{20 + index} degC"}}')
    manifest = textwrap.dedent(
        """\
        campaign: stale-test
        materials:
          - {id: SE, role: electrolyte}
          - {id: AU, role: metal_foil}
        cells:
          - id: PEL
            format: blocking_pellet
            diameter: 10 mm
            layers:
              - {role: blocking_electrode, material: AU}
              - {role: electrolyte, material: SE, thickness: 500 um}
              - {role: blocking_electrode, material: AU}
        measurements:
        """
    )
    (folder / 'manifest.yaml').write_text(manifest + '\n'.join(lines) + '\n')


@pytest.mark.slow
def test_kill_minus_nine_of_an_in_process_analysis_then_tidy(tmp_path):
    """A real `aiida-ssb analyse` killed with SIGKILL mid-run: `status` shows its run as stale, `tidy` closes it,
    and a new `analyse` then finishes."""
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, AIIDA_PATH=str(tmp_path / 'config'), PYTHONWARNINGS='ignore')
    env.pop('AIIDA_PROFILE', None)
    env['PATH'] = f'{bin_dir}{os.pathsep}{env.get("PATH", "")}'

    def cli(*args, timeout=300):
        return subprocess.run(
            [os.path.join(bin_dir, 'aiida-ssb'), *args],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    created = subprocess.run(
        [os.path.join(bin_dir, 'verdi'), 'presto', '--profile-name', 'stale'],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert created.returncode == 0, created.stderr
    data = tmp_path / 'data'
    data.mkdir()
    _spectra_manifest(data, 16)
    imported = cli('import', str(data / 'manifest.yaml'))
    assert imported.returncode == 0, imported.stdout + imported.stderr

    analysis = subprocess.Popen(
        [os.path.join(bin_dir, 'aiida-ssb'), 'analyse', 'PEL'],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    running = False
    while time.time() < deadline and analysis.poll() is None:
        status = cli('status', timeout=60)
        if 'running' in status.stdout and 'CellAnalysis PEL' in status.stdout:
            running = True
            break
        time.sleep(1.0)
    assert running, 'the analysis never showed as running'
    time.sleep(2.0)  # let it be inside a fit
    analysis.send_signal(signal.SIGKILL)
    analysis.wait()

    status = cli('status')
    assert 'stale' in status.stdout, status.stdout
    tidy = cli('tidy')
    assert tidy.returncode == 0 and 'Closed' in tidy.stdout, tidy.stdout + tidy.stderr
    status = cli('status')
    assert 'stale run(s)' not in status.stdout and 'killed' in status.stdout, status.stdout
    again = cli('analyse', 'PEL', timeout=600)
    assert again.returncode == 0 and 'PEL: analysed' in again.stdout, again.stdout + again.stderr


def test_a_function_left_finished_without_exit_status_is_an_orphan(aiida_profile_clean):
    """A worker killed while a process function was finishing leaves it 'finished' without an exit status
    (aiida-core stores the state, then the exit status): its workchain resumed elsewhere, so it is an orphan
    beside the ones left running, and `server tidy` closes both; a function that finished is left alone."""
    from aiida.common.links import LinkType
    from aiida.engine import ProcessState

    from aiida_ssb.server.status import orphaned_processes, tidy_orphans

    caller = orm.WorkChainNode()
    caller.set_process_type('aiida.workflows:ssb.cell_analysis')
    caller.set_process_state(ProcessState.FINISHED)
    caller.set_exit_status(0)
    caller.store()

    def function(state, exit_status=None):
        node = orm.CalcFunctionNode()
        node.set_process_type('aiida.calculations:ssb.analyse.cycling')
        node.set_process_state(state)
        if exit_status is not None:
            node.set_exit_status(exit_status)
        node.base.links.add_incoming(caller, LinkType.CALL_CALC, f'call_{state.value}_{exit_status}')
        return node.store()

    half = function(ProcessState.FINISHED)
    done = function(ProcessState.FINISHED, 0)
    running = function(ProcessState.RUNNING)
    assert [node.pk for node in orphaned_processes()] == sorted([half.pk, running.pk])
    assert sorted(tidy_orphans()) == sorted([half.pk, running.pk])
    assert orphaned_processes() == []
    assert half.process_state == ProcessState.KILLED and running.process_state == ProcessState.KILLED
    assert done.is_finished_ok and not done.is_sealed
