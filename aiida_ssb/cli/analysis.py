"""Commands for analyses: ``analyse``, ``reanalyse``, ``compare``, ``reindex``, ``status``."""

from __future__ import annotations

import json
from typing import Any

import click

from aiida_ssb.cli.root import cmd_ssb
from aiida_ssb.cli.utils import clean_errors
from aiida_ssb.exceptions import InputError


def _set_help() -> str:
    from aiida_ssb.analysis.registry import option_sections

    return (
        f'Option override SECTION.KEY=VALUE (sections: {", ".join(option_sections())}); VALUE is YAML (numbers, '
        '[lists], [[nested, lists]], text); an empty VALUE is the default. Stored on the cell for its next runs unless '
        'its analysis fails on every record. Repeatable.'
    )


class _SetOption(click.Option):
    """``--set``: its help lists the analyses' option sections, read from the registry when the help is shown
    (importing the registry costs every command, ``show`` included, a tenth of a second)."""

    @property
    def help(self) -> str:
        return _set_help()

    @help.setter
    def help(self, _value: str | None) -> None:
        pass


def parse_settings(settings: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``('eis_fit.circuit=R0-p(R1,CPE1)', 'cycling.reference=cycle:6')`` -> options by analysis, each section
    validated against its settings type (former section names such as ``eis`` are accepted)."""
    import yaml

    from aiida_ssb.analysis.registry import resolve_section, validate_options
    from aiida_ssb.schemas.common import check_circuit_bounds

    options: dict[str, dict[str, Any]] = {}
    for setting in settings:
        if '=' not in setting or '.' not in setting.split('=', 1)[0]:
            raise InputError(f'cannot read --set {setting!r}: write SECTION.KEY=VALUE, e.g. cycling.reference=cycle:6')
        path, raw = setting.split('=', 1)
        section, key = path.split('.', 1)
        try:
            section = resolve_section(section.strip())
        except InputError as exc:
            raise InputError(f'--set {setting!r}: {exc}') from None
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        options.setdefault(section, {})[key.strip()] = value
    try:
        check_circuit_bounds(options, where='--set')
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return validate_options(options, where='--set')


def _target_cells(sample_ids, campaign, all_cells):
    from aiida import orm

    from aiida_ssb.data.cell import CellData
    from aiida_ssb.data.sample import load_sample

    if sum(bool(x) for x in (sample_ids, campaign, all_cells)) != 1:
        raise click.UsageError('give SAMPLE_ID(s), or --campaign NAME, or --all')
    from aiida_ssb.query.records import materials_with_records

    if all_cells:
        cells = orm.QueryBuilder().append(CellData, project='*').order_by({CellData: {'id': 'asc'}}).all(flat=True)
        return cells + materials_with_records()
    if campaign:
        from aiida_ssb.data.campaign import campaign_group

        query = orm.QueryBuilder().append(orm.Group, filters={'id': campaign_group(campaign).pk}, tag='g')
        query.append(CellData, with_group='g', project='*').order_by({CellData: {'id': 'asc'}})
        return query.all(flat=True) + materials_with_records([campaign])
    cells = []
    with_records = None
    for sample_id in sample_ids:
        node = load_sample(sample_id)
        if not isinstance(node, CellData):
            # a material with records of its own (DSC/TGA, diffraction) is analysed like a cell
            with_records = {m.pk for m in materials_with_records()} if with_records is None else with_records
            if node.pk not in with_records:
                raise InputError(f'{sample_id!r} is a {node.__class__.__name__} without records, not a cell')
        cells.append(node)
    return cells


def previous_runs(cell, limit: int | None = None):
    """The CellAnalysisWorkChain runs of a cell (and of the versions it supersedes, `aiida-ssb amend`), newest
    first."""
    from aiida_ssb.query.records import cell_analysis_runs, versions_of

    return cell_analysis_runs(versions_of(cell), limit)


def run_cell_analyses(cells, options: dict, *, submit: bool, use_cache: bool = True) -> list:
    """Run (with a progress bar) or submit a CellAnalysisWorkChain per cell; returns the process nodes."""
    from aiida_ssb.workflows.cell import run_cell_analyses as run

    def progress(items):
        label = f'Analysing {len(items)} cell' + ('s' if len(items) != 1 else '')
        with click.progressbar(
            items,
            label=label,
            show_pos=True,
            item_show_func=lambda c: c.sample_id if c else '',
            file=click.get_text_stream('stderr'),
        ) as bar:
            yield from bar

    return run(cells, options, submit=submit, use_cache=use_cache, progress=None if submit else progress)


def daemon_state() -> tuple[str, bool | None]:
    """(profile name, whether its daemon runs); None when the profile has no broker (nothing can be submitted)."""
    from aiida.manage import get_manager

    profile = get_manager().get_profile()
    if profile is None:
        raise InputError('no AiiDA profile is loaded: create one (verdi presto) or pass -p PROFILE')
    if profile.process_control_backend is None:
        return profile.name, None
    from aiida_ssb.server.daemon import daemon_client

    return profile.name, bool(daemon_client(profile.name).is_daemon_running)


def _check_submit(submit: bool) -> bool | None:
    """Refuse --submit on a profile without a broker; whether the daemon runs otherwise (None without --submit)."""
    if not submit:
        return None
    profile, running = daemon_state()
    if running is None:
        raise InputError(
            f'profile {profile!r} has no broker, so nothing can be submitted to a daemon: run without --submit '
            '(the analyses then run in this process), or set up a lab server (aiida-ssb server setup)'
        )
    return running


def _warn_no_daemon(count: int) -> None:
    profile, _ = daemon_state()
    click.secho('Warning: ', fg='yellow', bold=True, nl=False, err=True)
    click.echo(
        f'the daemon of profile {profile!r} is not running: the {count} submitted run(s) stay "created" until it '
        'runs. Start it with `verdi daemon start` (or `aiida-ssb server workers N`), or run without --submit.',
        err=True,
    )


def _report(nodes, submitted: bool, daemon_running: bool | None = None) -> None:
    if submitted:
        click.echo(
            f'Submitted {len(nodes)} CellAnalysisWorkChain(s) to the daemon: pks {", ".join(str(n.pk) for n in nodes)}.'
        )
        click.echo('Follow them with `aiida-ssb status` (or `verdi process list`).')
        if daemon_running is False:
            _warn_no_daemon(len(nodes))
        return
    for node in nodes:
        cell = node.inputs.cell.sample_id
        if node.is_finished_ok:
            click.echo(f'{cell}: analysed (CellAnalysisWorkChain<{node.pk}>)')
        else:
            click.echo(f'{cell}: {node.exit_message or node.process_state} (CellAnalysisWorkChain<{node.pk}>)')
        quality = node.outputs.summary.get('eis_fit_quality') if 'summary' in node.outputs else None
        if quality and quality != 'good':
            click.secho(f'  impedance fits: {quality} (aiida-ssb show {cell}; plots mark them)', fg='yellow')


def _quiet_reports():
    from aiida_ssb.cli.demo import quiet_console

    quiet_console()


def target_options(verb: str):
    """SAMPLE_IDS, --campaign, --all, --set and --submit, shared by analyse and reanalyse."""
    options = [
        click.argument('sample_ids', nargs=-1),
        click.option('--campaign', help=f'{verb} every cell of this campaign (group).'),
        click.option('--all', 'all_cells', is_flag=True, help=f'{verb} every cell.'),
        click.option('--set', 'settings', multiple=True, cls=_SetOption),
        click.option('--submit', is_flag=True, help='Submit to the daemon instead of running in this process.'),
    ]

    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


@cmd_ssb.command('analyse')
@target_options('Analyse')
@clean_errors
def cmd_analyse(sample_ids, campaign, all_cells, settings, submit):
    """Run every applicable analysis on the measurements of cells (impedance fits, conductivity and Arrhenius,
    onsets, cycling summary, CCD) and summarise each cell's headline numbers.

    In-process by default, with a progress bar; --submit hands the work to the daemon. Analyses that were
    already run with the same inputs come from the cache.
    """
    options = parse_settings(settings)
    cells = _target_cells(sample_ids, campaign, all_cells)
    if not cells:
        click.echo('No cells to analyse.')
        return
    daemon_running = _check_submit(submit)
    _quiet_reports()
    nodes = run_cell_analyses(cells, options, submit=submit)
    _report(nodes, submit, daemon_running)


@cmd_ssb.command('reanalyse')
@target_options('Re-analyse')
@clean_errors
def cmd_reanalyse(sample_ids, campaign, all_cells, settings, submit):
    """Re-run the analyses of cells from their stored raw data, with changed options (--set) merged over the
    options stored on each cell (set by earlier runs; `aiida-ssb show` lists them). Unchanged steps come from the
    cache; previous results are kept. `aiida-ssb compare SAMPLE_ID` then shows old and new numbers side by
    side. (`analyse` does the same without printing the comparison.)"""
    overrides = parse_settings(settings)
    cells = _target_cells(sample_ids, campaign, all_cells)
    daemon_running = _check_submit(submit)
    _quiet_reports()
    nodes = run_cell_analyses(cells, overrides, submit=submit)
    _report(nodes, submit, daemon_running)
    if not submit and len(cells) == 1:
        click.echo('')
        _print_comparison(cells[0])


def _flat(options: dict) -> dict[str, Any]:
    return {f'{section}.{key}': value for section, values in options.items() for key, value in values.items()}


def _print_comparison(cell, runs=None) -> None:
    from tabulate import tabulate

    runs = runs or previous_runs(cell, limit=2)
    finished = [run for run in runs if 'summary' in run.outputs]
    if len(finished) < 2:
        click.echo(f'{cell.sample_id} has {len(finished)} finished analysis run(s): nothing to compare yet.')
        return
    new, old = finished[0], finished[1]
    old_summary, new_summary = old.outputs.summary.get_dict(), new.outputs.summary.get_dict()
    skip = {'sources', 'sample_id', 'n_summaries'}
    keys = sorted((set(old_summary) | set(new_summary)) - skip)
    rows = []
    for key in keys:
        a, b = old_summary.get(key), new_summary.get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            change = 'same' if a == b else f'{b - a:+.4g}'
        else:
            change = 'same' if a == b else 'changed'
        rows.append([key, _fmt(a), _fmt(b), change])
    click.secho(
        f'{cell.sample_id}: CellAnalysisWorkChain<{old.pk}> ({old.ctime:%Y-%m-%d %H:%M}) -> '
        f'<{new.pk}> ({new.ctime:%Y-%m-%d %H:%M})',
        bold=True,
    )
    click.echo(
        tabulate(rows, headers=['number', 'before', 'after', 'change'], tablefmt='simple', disable_numparse=True)
    )
    old_options = _flat(old.inputs.options.get_dict() if 'options' in old.inputs else {})
    new_options = _flat(new.inputs.options.get_dict() if 'options' in new.inputs else {})
    old_sources, new_sources = _sources(old, cell), _sources(new, cell)
    keys = sorted(set(old_options) | set(new_options))
    click.secho('Options (where each came from: default, manifest, stored on the cell, --set)', bold=True)
    if not keys:
        click.echo('  every option at its default, in both runs')
    for key in keys:
        before = _option_text(key, old_options, old_sources)
        after = _option_text(key, new_options, new_sources)
        same = old_options.get(key, _DEFAULT) == new_options.get(key, _DEFAULT)
        click.echo(f'  {key}: {before} -> {after}' + ('  (unchanged)' if same else ''))
    versions = [run.base.attributes.get('version', {}).get('plugin') for run in (old, new)]
    click.secho('Plugin version', bold=True)
    click.echo(f'  {versions[0]} -> {versions[1]}' + ('' if versions[0] != versions[1] else ' (unchanged)'))


_DEFAULT = object()


def _sources(run, cell) -> dict[str, str]:
    """Where each option of a run came from: recorded with the run, or (runs before that record existed) the
    manifest where the value equals the cell's recorded choice."""
    from aiida_ssb.workflows.options import SOURCES_EXTRA

    recorded = run.base.extras.get(SOURCES_EXTRA, None)
    if recorded is not None:
        return recorded
    manifest = _flat(cell.base.attributes.get('analysis', None) or {})
    options = _flat(run.inputs.options.get_dict() if 'options' in run.inputs else {})
    return {
        key: 'manifest' if key in manifest and manifest[key] == value else 'stored on the cell or --set'
        for key, value in options.items()
    }


def _option_text(key: str, options: dict, sources: dict) -> str:
    if key not in options or options[key] is None:
        return '(default)'
    return f'{json.dumps(options[key])} ({sources.get(key, "stored on the cell")})'


def _fmt(value) -> str:
    if value is None:
        return ''
    if isinstance(value, float):
        return f'{value:.5g}'
    if isinstance(value, list) and all(isinstance(item, dict) and 'flag' in item for item in value):
        value = ', '.join(sorted({item['flag'] for item in value}))  # flags: their names (show has the reasons)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + '...'  # a long text would widen the whole table


@cmd_ssb.command('compare')
@click.argument('sample_id')
@clean_errors
def cmd_compare(sample_id):
    """Old and new headline numbers of a cell side by side (its last two analysis runs), with what changed
    between them: the options and the plugin version. Both runs stay in the graph."""
    from aiida_ssb.data.sample import load_sample

    _print_comparison(load_sample(sample_id))


@cmd_ssb.command('reindex')
@clean_errors
def cmd_reindex():
    """Rebuild the query index (the extras holding each cell's and electrolyte's current headline numbers)
    from the provenance graph, e.g. after importing an archive made without extras."""
    from aiida_ssb.data.rawfile import register_raw_files
    from aiida_ssb.importer.archive import consistency_report

    counts = __import__('aiida_ssb.data.index', fromlist=['reindex']).reindex()
    register_raw_files()  # raw files stored before the registry existed, or imported without it
    click.echo(f'Indexed {counts["cells"]} analysed cells and {counts["materials"]} electrolytes.')
    duplicates = consistency_report()
    for sample_id, pks in sorted(duplicates['sample_ids'].items()):
        click.secho('Warning: ', fg='yellow', bold=True, nl=False, err=True)
        click.echo(
            f'sample id {sample_id!r} is held by {len(pks)} nodes (pks {", ".join(map(str, pks))}); tables show each, '
            'commands reach the oldest. An archive import of records that exist here under other UUIDs does this '
            '(`aiida-ssb import-archive` refuses such archives).',
            err=True,
        )
    for sha256, pks in sorted(duplicates['raw_files'].items()):
        click.secho('Warning: ', fg='yellow', bold=True, nl=False, err=True)
        click.echo(
            f'one raw file (SHA-256 {sha256[:12]}...) is stored {len(pks)} times: pks {", ".join(map(str, pks))}',
            err=True,
        )


@cmd_ssb.command('status')
@click.option('--limit', type=int, default=20, show_default=True, help='Show at most this many runs.')
@clean_errors
def cmd_status(limit):
    """The latest aiida-ssb analysis runs: cell, state, exit status (running ones first). A run whose in-process
    runner was killed shows as `stale` (close it with `aiida-ssb tidy`)."""
    from aiida import orm
    from tabulate import tabulate

    from aiida_ssb.workflows.stale import is_stale

    if limit < 1:
        raise InputError(f'--limit {limit}: give a positive number of runs')
    query = orm.QueryBuilder().append(
        orm.WorkChainNode, filters={'process_type': {'like': '%ssb.%'}}, project='*', tag='w'
    )
    query.order_by({'w': {'ctime': 'desc'}}).limit(limit)
    rows = []
    for node in query.all(flat=True):
        state = node.process_state.value if node.process_state else '?'
        if is_stale(node):
            state = 'stale'
        exit_text = '' if node.exit_status in (None, 0) else f'{node.exit_status}: {node.exit_message or ""}'[:60]
        if state == 'killed' and node.process_status:
            exit_text = node.process_status[:60]
        rows.append([node.pk, node.process_label, node.label, state, exit_text, f'{node.ctime:%Y-%m-%d %H:%M:%S}'])
    rows.sort(key=lambda r: (r[3] not in ('running', 'waiting', 'created'), -r[0]))
    if not rows:
        click.echo('No aiida-ssb analysis runs yet.')
        return
    click.echo(tabulate(rows, headers=['pk', 'process', 'label', 'state', 'exit', 'created'], tablefmt='simple'))
    stale = sum(row[3] == 'stale' for row in rows)
    if stale:
        click.echo(f'{stale} stale run(s): their in-process runner was killed; `aiida-ssb tidy` closes them.')


@cmd_ssb.command('tidy')
@click.option('--dry-run', is_flag=True, help='Only list what would be closed.')
@clean_errors
def cmd_tidy(dry_run):
    """Close the process records of in-process analyses whose runner was killed (kill -9, a lost terminal): they
    stay `running` for ever otherwise, since no broker knows them. Each is marked killed, with the reason, and
    sealed; results already stored are untouched. Runs of other hosts and of the daemon are left alone (for the
    daemon, see `aiida-ssb server tidy`)."""
    from aiida_ssb.workflows.stale import close_stale

    closed = close_stale(dry_run=dry_run)
    verb = 'Would close' if dry_run else 'Closed'
    if closed:
        click.echo(f'{verb} {len(closed)} stale process record(s): pks {", ".join(map(str, closed))}.')
    else:
        click.echo('No stale in-process analysis records.')
