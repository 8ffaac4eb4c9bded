"""``aiida-ssb server``: a shared lab server (PostgreSQL storage, RabbitMQ broker, daemon workers).

* ``server setup`` creates the database, its user and an AiiDA profile (``core.psql_dos`` + ``core.rabbitmq``),
  enables caching of the analyses for that profile, writes a *join file* (mode 0600) for further machines and
  optionally starts daemon workers;
* ``server join FILE`` adds the same lab database to the AiiDA configuration of another machine;
* ``server status`` shows the storage, the broker, the daemon workers and the running aiida-ssb processes;
* ``server workers N`` runs N daemon workers on this machine;
* ``server tidy`` closes the process-function nodes a lost daemon worker left behind.

The commands are click wrappers of the library in :mod:`aiida_ssb.server`. Passwords are never taken from the
command line (it is visible in the process list): they come from a file, a hidden prompt or the environment
(:mod:`aiida_ssb.server.secrets`).
"""

from __future__ import annotations

import functools
import json
import pathlib
import sys
from collections.abc import Callable
from typing import Any

import click

from aiida_ssb.cli.root import cmd_ssb
from aiida_ssb.exceptions import ServerError

# the library's names, importable from here as before (the library itself is loaded when a command runs)
_LIBRARY = {
    'CACHED_ANALYSES': 'aiida_ssb.server.profile',
    'JOIN_FILE_FORMAT': 'aiida_ssb.server.profile',
    'join_server': 'aiida_ssb.server.profile',
    'read_join_file': 'aiida_ssb.server.profile',
    'setup_server': 'aiida_ssb.server.profile',
    'write_join_file': 'aiida_ssb.server.profile',
    'orphaned_processes': 'aiida_ssb.server.status',
    'server_status': 'aiida_ssb.server.status',
    'tidy_orphans': 'aiida_ssb.server.status',
    'set_workers': 'aiida_ssb.server.daemon',
    'worker_pids': 'aiida_ssb.server.daemon',
    'probe_tcp': 'aiida_ssb.server.services',
}

__all__ = ['ServerError', 'cmd_server']


def __getattr__(name: str) -> Any:
    if name in _LIBRARY:
        import importlib

        return getattr(importlib.import_module(_LIBRARY[name]), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def _clean(function: Callable) -> Callable:
    """Print :class:`ServerError` (and bad parameters) as one message without a traceback; exit with 1."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ServerError as exc:
            click.secho('Error: ', fg='red', bold=True, nl=False, err=True)
            click.echo(str(exc), err=True)
            sys.exit(1)

    return wrapper


def _print_status(status: dict[str, Any], limit: int) -> None:
    from tabulate import tabulate

    from aiida_ssb.server.profile import CACHED_ANALYSES

    def line(name: str, text: str, ok: bool = True) -> None:
        click.secho(f'{name:<9}', bold=True, nl=False)
        click.secho(text, fg=None if ok else 'red')

    storage = status['storage']
    text = f'{storage["backend"]}  {storage["location"]}'
    if 'error' in storage:
        line('storage', f'{text}  UNREACHABLE: {storage["error"]}', ok=False)
    else:
        line('storage', f'{text}  ({storage["nodes"]} nodes, {storage["cells"]} cells)')
        if storage.get('repository') and storage['repository'] != storage['location']:
            line('files', storage['repository'])
    broker = status['broker']
    if broker['backend'] is None:
        line('broker', 'none (processes cannot be submitted to a daemon)', ok=False)
    elif 'error' in broker:
        line('broker', f'{broker["backend"]}  {broker.get("location", "")}  UNREACHABLE: {broker["error"]}', ok=False)
    else:
        line(
            'broker',
            f'{broker["backend"]}  {broker["location"]}  reachable'
            if broker.get('location')
            else f'{broker["backend"]} (started with the daemon)',
        )
    caching = status['caching_enabled_for']
    line(
        'caching',
        ', '.join(caching) if caching else f'off (enable: verdi config set caching.enabled_for {CACHED_ANALYSES})',
        ok=bool(caching),
    )
    daemon = status['daemon']
    if daemon['running']:
        pids = ', '.join(str(pid) for pid in daemon['workers']) or 'none'
        line('daemon', f'running, {len(daemon["workers"])} worker(s): pids {pids}', ok=bool(daemon['workers']))
    else:
        line('daemon', 'not running (start workers: aiida-ssb server workers N, or verdi daemon start N)', ok=False)
    processes = status['processes']
    line('active', f'{len(processes)} aiida-ssb process(es) created, waiting or running')
    if processes:
        rows = [
            [p['pk'], p['process'], p['label'], p['state'], f'{p["created"]:%Y-%m-%d %H:%M:%S}']
            for p in processes[:limit]
        ]
        click.echo(tabulate(rows, headers=['pk', 'process', 'label', 'state', 'created'], tablefmt='simple'))
        if len(processes) > limit:
            click.echo(f'... and {len(processes) - limit} more (aiida-ssb status, verdi process list)')
    if status['orphaned']:
        line(
            'orphaned',
            f'{len(status["orphaned"])} process function(s) left unfinished by a lost worker '
            f'(pks {", ".join(map(str, status["orphaned"][:10]))}): `aiida-ssb server tidy` closes them',
            ok=False,
        )


# ------------------------------------------------------------------------------------------------ commands
@cmd_ssb.group('server')
def cmd_server():
    """A shared lab server: PostgreSQL storage, RabbitMQ broker and daemon workers (several machines may join)."""


def _refuse_password_value(context, parameter, value):
    if value is not None:
        name = parameter.name.removesuffix('_password').replace('_', '-')
        raise click.BadParameter(
            f'a password on the command line is visible to every user in the process list; give it with '
            f'--{name}-password-file FILE, --ask-{name}-password or the environment variable '
            f'AIIDA_SSB_{name.upper()}_PASSWORD',
            param_hint=f'--{name}-password',
        )
    return value


def _secret_options(name: str, what: str, default: str) -> list:
    """``--NAME-password-file`` and ``--ask-NAME-password`` (plus the refused ``--NAME-password VALUE``)."""
    return [
        click.option(
            f'--{name}-password-file',
            type=click.Path(exists=True, dir_okay=False),
            default=None,
            help=f'Read {what} from the first line of this file [else AIIDA_SSB_{name.upper()}_PASSWORD, else '
            f'{default}].',
        ),
        click.option(f'--ask-{name}-password', is_flag=True, help=f'Ask for {what} (hidden input).'),
        click.option(
            f'--{name}-password',
            expose_value=False,
            hidden=True,
            callback=_refuse_password_value,
            help='Refused: a password on the command line is visible in the process list.',
        ),
    ]


def _decorate(function: Callable, decorators: list) -> Callable:
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _postgres_options(function: Callable) -> Callable:
    return _decorate(
        function,
        [
            click.option(
                '--postgres-hostname',
                default='localhost',
                show_default=True,
                help='Host name of the PostgreSQL server (use its network name when other machines will join).',
            ),
            click.option(
                '--postgres-port', type=int, default=5432, show_default=True, help='Port of the PostgreSQL server.'
            ),
            click.option(
                '--postgres-username',
                default='postgres',
                show_default=True,
                help='A PostgreSQL user allowed to create users and databases.',
            ),
            *_secret_options('postgres', 'its password', 'none: trust or peer authentication'),
            click.option(
                '--database-name', default=None, help='Name of the new database [default: aiida_ssb_PROFILE].'
            ),
            click.option(
                '--database-username',
                default=None,
                help='Owner of the new database, created when missing [default: the database name].',
            ),
            *_secret_options(
                'database', "the database owner's password", 'a random one, kept in the profile and the join file'
            ),
        ],
    )


def _broker_options(function: Callable) -> Callable:
    return _decorate(
        function,
        [
            click.option(
                '--broker-host', default='127.0.0.1', show_default=True, help='Host name of the RabbitMQ server.'
            ),
            click.option(
                '--broker-port', type=int, default=5672, show_default=True, help='Port of the RabbitMQ server.'
            ),
            click.option('--broker-username', default='guest', show_default=True, help='RabbitMQ user.'),
            *_secret_options('broker', 'its password', 'guest'),
            click.option('--broker-virtual-host', default='', help='RabbitMQ virtual host [default: the default one].'),
            click.option(
                '--broker-protocol',
                type=click.Choice(['amqp', 'amqps']),
                default='amqp',
                show_default=True,
                help='amqps for TLS.',
            ),
        ],
    )


def _secret(name: str, file: str | None, ask: bool, default: str | None) -> str | None:
    from aiida_ssb.server.secrets import read_secret

    return read_secret(
        name, file=file, ask=ask, default=default, prompt=lambda text: click.prompt(text, hide_input=True, err=True)
    )


def _default_email() -> str:
    from aiida.manage.configuration import get_config_option

    return get_config_option('autofill.user.email') or 'aiida@localhost'


@cmd_server.command('setup')
@click.option('--profile-name', default='ssb-server', show_default=True, help='Name of the new AiiDA profile.')
@click.option(
    '--email',
    default=_default_email,
    show_default='autofill.user.email or aiida@localhost',
    help='Email of the default user.',
)
@_postgres_options
@click.option(
    '--repository',
    type=click.Path(file_okay=False),
    default=None,
    help='Folder of the file repository [default: AIIDA_PATH/.aiida/repository/PROFILE]; put it on a shared '
    'file system when daemon workers on other machines will join.',
)
@_broker_options
@click.option(
    '--workers',
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help='Start this many daemon workers once the profile exists.',
)
@click.option(
    '--set-default/--no-set-default', default=True, show_default=True, help='Make the new profile the default one.'
)
@click.option(
    '--join-file',
    type=click.Path(dir_okay=False),
    default=None,
    help='Where to write the join file for further machines [default: AIIDA_PATH/.aiida/ssb-join-PROFILE.json]; '
    'it is written readable by you only (mode 0600), replacing any file of that name.',
)
@_clean
def cmd_server_setup(
    profile_name,
    email,
    postgres_hostname,
    postgres_port,
    postgres_username,
    postgres_password_file,
    ask_postgres_password,
    database_name,
    database_username,
    database_password_file,
    ask_database_password,
    repository,
    broker_host,
    broker_port,
    broker_username,
    broker_password_file,
    ask_broker_password,
    broker_virtual_host,
    broker_protocol,
    workers,
    set_default,
    join_file,
):
    """Create a lab-server profile: a new PostgreSQL database (and its owner) for the storage, RabbitMQ as the
    broker, caching of the analyses enabled (re-analyses in the daemon reuse unchanged steps), and a join file
    with which further machines connect to the same database; optionally start daemon workers.

    Both services are checked first: when one is unreachable, the command says which (host:port) and creates
    nothing. Passwords come from files (--*-password-file), hidden prompts (--ask-*-password) or the environment
    (AIIDA_SSB_POSTGRES_PASSWORD, AIIDA_SSB_DATABASE_PASSWORD, AIIDA_SSB_BROKER_PASSWORD), never from the command
    line."""
    from aiida.manage.configuration import get_config

    from aiida_ssb.server.daemon import set_workers
    from aiida_ssb.server.profile import CACHED_ANALYSES, setup_server, write_join_file

    join = setup_server(
        profile_name,
        email=email,
        postgres_hostname=postgres_hostname,
        postgres_port=postgres_port,
        postgres_username=postgres_username,
        postgres_password=_secret('postgres', postgres_password_file, ask_postgres_password, None),
        database_name=database_name,
        database_username=database_username,
        database_password=_secret('database', database_password_file, ask_database_password, None),
        repository=repository,
        broker_host=broker_host,
        broker_port=broker_port,
        broker_username=broker_username,
        broker_password=_secret('broker', broker_password_file, ask_broker_password, 'guest'),
        broker_virtual_host=broker_virtual_host,
        broker_protocol=broker_protocol,
        set_default=set_default,
        echo=click.echo,
    )
    config = get_config()
    path = pathlib.Path(join_file) if join_file else pathlib.Path(config.dirpath) / f'ssb-join-{profile_name}.json'
    write_join_file(join, path)
    click.secho('Success: ', fg='green', bold=True, nl=False)
    click.echo(
        f'profile {profile_name!r} created (caching of {CACHED_ANALYSES} enabled'
        + (', default profile)' if set_default else ')')
    )
    mode = path.stat().st_mode & 0o777
    click.echo(f'Join file (holds the database password; mode {mode:04o}, readable by you only): {path}')
    click.echo(f'  on another machine: aiida-ssb server join {path.name} --profile-name {profile_name}')
    if workers:
        pids = set_workers(profile_name, workers)
        click.echo(f'Daemon started with {len(pids)} worker(s): pids {", ".join(map(str, pids))}')
    else:
        click.echo(f'Start workers with: aiida-ssb -p {profile_name} server workers N')


@cmd_server.command('join')
@click.argument('join_file', type=click.Path(exists=True, dir_okay=False))
@click.option('--profile-name', default=None, help='Name of the profile on this machine [default: as on the server].')
@click.option('--email', default=None, help='Record work from this machine under this user [default: the server user].')
@click.option('--database-hostname', default=None, help='Reach PostgreSQL under this name from here.')
@click.option('--database-port', type=int, default=None, help='... and this port.')
@click.option('--broker-host', default=None, help='Reach RabbitMQ under this name from here.')
@click.option('--broker-port', type=int, default=None, help='... and this port.')
@click.option(
    '--repository',
    type=click.Path(file_okay=False),
    default=None,
    help="Where the server's file repository is mounted here [default: the same path as on the server].",
)
@click.option(
    '--workers',
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help='Start this many daemon workers on this machine.',
)
@click.option(
    '--set-default/--no-set-default', default=True, show_default=True, help='Make the profile the default one here.'
)
@_clean
def cmd_server_join(
    join_file,
    profile_name,
    email,
    database_hostname,
    database_port,
    broker_host,
    broker_port,
    repository,
    workers,
    set_default,
):
    """Connect this machine to an existing lab server (a JOIN_FILE written by `server setup`): the same database,
    broker and file repository, so that its commands and daemon workers work on the one shared graph."""
    from aiida_ssb.server.daemon import set_workers
    from aiida_ssb.server.profile import join_server, read_join_file

    join = read_join_file(join_file)
    name = profile_name or join.get('profile') or 'ssb-server'
    user = join_server(
        join,
        name,
        email=email,
        database_hostname=database_hostname,
        database_port=database_port,
        broker_host=broker_host,
        broker_port=broker_port,
        repository=repository,
        set_default=set_default,
    )
    click.secho('Success: ', fg='green', bold=True, nl=False)
    click.echo(f'profile {name!r} joined the lab server (user {user})')
    if workers:
        pids = set_workers(name, workers)
        click.echo(f'Daemon started with {len(pids)} worker(s): pids {", ".join(map(str, pids))}')


@cmd_server.command('workers')
@click.argument('number', type=click.IntRange(min=0))
@_clean
def cmd_server_workers(number):
    """Run NUMBER daemon workers on this machine for the current profile (starts the daemon when needed; 0 stops
    every worker but leaves the daemon up; `verdi daemon stop` stops it)."""
    from aiida.manage import get_manager

    from aiida_ssb.server.daemon import set_workers

    profile = get_manager().get_profile()
    if profile is None:
        raise ServerError('no profile: give -p PROFILE or set a default profile')
    if profile.process_control_backend is None:
        raise ServerError(f'the profile {profile.name!r} has no broker, so it cannot run daemon workers')
    pids = set_workers(profile.name, number)
    click.echo(
        f'{profile.name}: {len(pids)} daemon worker(s)' + (f': pids {", ".join(map(str, pids))}' if pids else '')
    )


@cmd_server.command('status')
@click.option('--limit', type=int, default=20, show_default=True, help='List at most this many active processes.')
@click.option('--json', 'as_json', is_flag=True, help='Print the status as JSON.')
@_clean
def cmd_server_status(limit, as_json):
    """Storage (reachable? how many nodes and cells), broker, caching, daemon workers and the aiida-ssb processes
    that are created, waiting or running. Exits with 3 when the storage or the broker is unreachable."""
    from aiida.manage import get_manager

    from aiida_ssb.server.status import server_status

    profile = get_manager().get_profile()
    if profile is None:
        raise ServerError('no profile: give -p PROFILE or set a default profile')
    status = server_status(profile)
    if as_json:
        click.echo(json.dumps(status, indent=2, default=str))
    else:
        click.secho(f'profile  {profile.name}', bold=True)
        _print_status(status, limit)
    if 'error' in status['storage'] or 'error' in status['broker']:
        sys.exit(3)


@cmd_server.command('tidy')
@click.option('--dry-run', is_flag=True, help='Only list them.')
@_clean
def cmd_server_tidy(dry_run):
    """Close the aiida-ssb process functions that a lost daemon worker left "created" or "running" although their
    workchain has finished (it resumed on another worker and ran the step again). They are marked killed, with
    the reason; no result changes."""
    from aiida_ssb.server.status import tidy_orphans

    pks = tidy_orphans(dry_run=dry_run)
    if not pks:
        click.echo('No orphaned process functions.')
        return
    verb = 'would be closed' if dry_run else 'closed (killed)'
    click.echo(f'{len(pks)} orphaned process function(s) {verb}: pks {", ".join(map(str, pks))}')
