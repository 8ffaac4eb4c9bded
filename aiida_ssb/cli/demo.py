"""``aiida-ssb demo``: the main job of a fresh checkout, on the embedded default profile."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import click

from aiida_ssb.cli.root import cmd_ssb
from aiida_ssb.cli.utils import clean_errors


def ensure_profile() -> str:
    """Load the selected or default profile; create a ``verdi presto`` profile (SQLite, no services) when the
    configuration has none. Returns the profile name."""
    from aiida import load_profile
    from aiida.manage import get_manager
    from aiida.manage.configuration import get_config

    manager = get_manager()
    profile = manager.get_profile()
    if profile is not None:
        return profile.name
    config = get_config(create=True)
    dangling = config.default_profile_name is not None and config.default_profile_name not in config.profile_names
    if dangling:
        click.echo(f'The default profile {config.default_profile_name!r} named in {config.dirpath} does not exist.')
    if config.default_profile_name is None or dangling:
        verdi = shutil.which('verdi') or str(pathlib.Path(sys.executable).with_name('verdi'))
        click.echo('No AiiDA profile yet: creating one with `verdi presto` (SQLite storage, no services needed)...')
        result = subprocess.run([verdi, 'presto'], check=False, capture_output=True, text=True)
        if result.returncode != 0:
            raise click.ClickException(f'verdi presto failed:\n{result.stdout}{result.stderr}')
        click.echo(result.stdout.strip())
        from aiida.manage.configuration import reset_config

        reset_config()
    return load_profile().name


def quiet_console() -> None:
    """Keep process reports out of the terminal: they are still stored with each process (``verdi process report``)
    and written to the profile's log file."""
    import logging

    from aiida.manage import get_manager
    from aiida.orm.utils.log import DBLogHandler

    manager = get_manager()
    if manager.get_profile() is not None:
        # loading the storage configures AiiDA's logging again (with the database handler), which would put the
        # console handler back at REPORT: a profile created by this command (the demo's first run) is loaded here
        manager.get_profile_storage()
    for handler in logging.getLogger('aiida').handlers:
        if not isinstance(handler, (DBLogHandler, logging.FileHandler)):  # the console (a stream or verdi's)
            handler.setLevel(logging.WARNING)


@cmd_ssb.command('demo')
@click.option('--reduced', is_flag=True, help='A smaller data set (fewer temperatures and cycles), for a quick look.')
@click.option(
    '--workdir',
    type=click.Path(file_okay=False),
    default=None,
    help='Where the generated instrument files go (default: ~/.cache/aiida-ssb/demo-full or demo-reduced).',
)
@click.option('--reanalyse', is_flag=True, help='Analyse every demonstration cell again (default: only new ones).')
@clean_errors
def cmd_demo(reduced, workdir, reanalyse):
    """The demonstration: four campaigns modelled on the seed papers (a milling series, a 4 V sodium cell,
    infiltrated electrodes, the oxidative-stability method) plus the review's literature values are generated,
    imported and analysed, and each paper's numbers are put beside what the analyses computed.

    Creates a `verdi presto` profile (SQLite, no services) when none exists. Idempotent: a second run imports
    and analyses nothing new and prints the table again.
    """
    import time

    from aiida_ssb.demo import analyse_campaigns, evaluate_checks, generate_campaigns, import_campaigns

    start = time.time()
    profile = ensure_profile()
    quiet_console()
    mode = 'reduced' if reduced else 'full'
    folder = pathlib.Path(workdir) if workdir else pathlib.Path.home() / '.cache' / 'aiida-ssb' / f'demo-{mode}'
    click.secho(f'aiida-ssb demo ({mode} data set) on profile {profile!r}', bold=True)
    click.echo(f'1/3 generating the campaigns in {folder} ...')
    manifests = generate_campaigns(folder, reduced=reduced)
    click.echo('2/3 importing them (materials, lab steps, cells, instrument files) and the literature set ...')
    from aiida_ssb.importer.manifest import plan_import

    total = sum(plan_import(m).n_new for m in manifests)
    with click.progressbar(
        length=max(total, 1), label='    importing', show_pos=True, file=click.get_text_stream('stderr')
    ) as bar:
        import_campaigns(manifests, progress=lambda message: bar.update(1))
    click.echo('3/3 analysing every cell (impedance fits, conductivity, Arrhenius, onsets, cycling, CCD) ...')
    nodes = analyse_campaigns(force=reanalyse)
    failed = [n for n in nodes if not n.is_finished_ok]
    for node in failed:
        click.echo(f'    {node.inputs.cell.sample_id}: {node.exit_message}')
    checks = evaluate_checks(folder / 'expected.json')
    _print_checks(checks)
    reproduced = sum(check.ok for check in checks)
    click.secho(
        f"\n{reproduced} of {len(checks)} numbers of the papers recovered from data generated from the papers' "
        f'models ({time.time() - start:.0f} s): an end-to-end check of import, analysis and query.',
        bold=True,
        fg='green' if reproduced == len(checks) else 'yellow',
    )
    from aiida_ssb.realdata import default_shared_folder, real_data_checks

    real = real_data_checks()
    if real is None:
        click.echo(f'Real instrument files: {default_shared_folder()} is absent, so no check on real data ran.')
    else:
        passed = sum(check.ok for check in real)
        click.secho(
            f'{passed} of {len(real)} checks on real instrument files ({default_shared_folder()}) passed:',
            bold=True,
            fg='green' if passed == len(real) else 'yellow',
        )
        for check in real:
            click.echo(f'  {"ok  " if check.ok else "FAIL"} {check.name}: {check.detail}')
    click.secho('\nWhere to look next', bold=True)
    for line in (
        'aiida-ssb cells --campaign seed000-4v-cell --columns sample_id,upper_cutoff_v,capacity_retention_percent_at_end',
        'aiida-ssb samples --role electrolyte --columns sample_id,literature,conductivity_25c_s_cm,activation_energy_ev,onset_v',
        'aiida-ssb cells --where "electrolyte.ball_milling.duration_min >= 45" --columns sample_id,conductivity_25c_s_cm',
        'aiida-ssb show PEL-NCB-45                     the pellet, its history and its measurements',
        'aiida-ssb graph NVOPF-FC-415 --what synthesis -o cell.svg',
        'aiida-ssb plot PEL-NCB-45 --kind arrhenius -o arrhenius.png',
        'aiida-ssb plot --campaign seed004-milling-series --kind scatter --x electrolyte.ball_milling.duration_min '
        '--y conductivity_25c_s_cm -o milling.png',
        'aiida-ssb reanalyse NVOPF-FC-415 --set cycling.reference=cycle:10 && aiida-ssb compare NVOPF-FC-415',
    ):
        click.echo('  ' + line)


def _print_checks(checks) -> None:
    from tabulate import tabulate

    rows = []
    for check in checks:
        computed = '(missing)' if check.computed is None else f'{check.computed:.4g}'
        mark = 'ok' if check.ok else 'DIFFERS'
        rows.append(
            [check.seed, check.quantity, f'{check.paper:g}', computed, check.unit, f'±{check.tolerance:g}', mark]
        )
    click.echo('')
    click.echo(
        tabulate(
            rows,
            headers=['seed', 'quantity', 'paper', 'demo', 'unit', 'tolerance', ''],
            tablefmt='simple',
            disable_numparse=True,
        )
    )
