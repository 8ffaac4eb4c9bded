"""``aiida-ssb server``: a shared lab server (PostgreSQL storage, RabbitMQ broker, daemon workers).

* ``server setup`` creates the database, its user and an AiiDA profile (``core.psql_dos`` + ``core.rabbitmq``),
  enables caching of the analyses for that profile, writes a *join file* for further machines and optionally
  starts daemon workers;
* ``server join FILE`` adds the same lab database to the AiiDA configuration of another machine (no new storage
  is initialised: every machine then works on one shared graph);
* ``server status`` shows the storage, the broker, the daemon workers and the running aiida-ssb processes;
* ``server workers N`` runs N daemon workers on this machine;
* ``server tidy`` closes the process-function nodes a lost daemon worker left behind (see :func:`orphaned_processes`).

Unreachable services are reported as one line naming ``host:port``, never with a traceback.

``verdi presto --use-postgres`` is not used: it creates its database with the fixed locale ``en_US.UTF-8``,
which many servers (and containers) do not have; this command creates the database with the server's default
locale instead, and so works wherever PostgreSQL runs.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import re
import secrets
import socket
import sys
from collections.abc import Callable
from typing import Any

import click

from aiida_ssb.cli.root import cmd_ssb
from aiida_ssb.exceptions import ServerError

__all__ = [
    'CACHED_ANALYSES',
    'JOIN_FILE_FORMAT',
    'ServerError',
    'join_server',
    'orphaned_processes',
    'probe_tcp',
    'read_join_file',
    'server_status',
    'set_workers',
    'setup_server',
    'tidy_orphans',
    'worker_pids',
    'write_join_file',
]

#: the analyses whose results daemon workers reuse (entry-point pattern of ``caching.enabled_for``)
CACHED_ANALYSES = 'aiida.calculations:ssb.analyse.*'

#: the ``format`` field of a join file
JOIN_FILE_FORMAT = 'aiida-ssb server profile'

_ACTIVE_STATES = ('created', 'waiting', 'running')


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


# ------------------------------------------------------------------------------------------------ probes
def probe_tcp(host: str, port: int, service: str, timeout_s: float = 3.0) -> None:
    """Raise :class:`ServerError` naming ``service`` and ``host:port`` when nothing accepts a TCP connection there."""
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            return
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise ServerError(
            f'cannot reach {service} at {host}:{port} ({reason}): is the service running and listening on that address?'
        ) from None


def _admin_connection(host: str, port: int, user: str, password: str | None, dbname: str = 'postgres'):
    """An autocommit psycopg connection as the PostgreSQL administrator (or a :class:`ServerError`)."""
    import psycopg

    probe_tcp(host, port, 'PostgreSQL')
    try:
        return psycopg.connect(
            host=host,
            port=int(port),
            user=user,
            password=password or None,
            dbname=dbname,
            connect_timeout=5,
            autocommit=True,
        )
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise ServerError(
            f'PostgreSQL at {host}:{port} refused user {user!r} on database {dbname!r}: {first}'
        ) from None


def _probe_rabbitmq(broker: dict[str, Any]) -> None:
    """Connect to RabbitMQ with the profile's broker settings (``broker_*`` keys) or raise :class:`ServerError`."""
    from aiida.brokers.rabbitmq.defaults import detect_rabbitmq_config

    host, port = broker['broker_host'], int(broker['broker_port'])
    probe_tcp(host, port, 'RabbitMQ')
    try:
        detect_rabbitmq_config(
            protocol=broker['broker_protocol'],
            username=broker['broker_username'],
            password=broker['broker_password'],
            host=host,
            port=port,
            virtual_host=broker['broker_virtual_host'],
        )
    except ConnectionError:
        raise ServerError(
            f'RabbitMQ at {host}:{port} accepts connections but refused user '
            f'{broker["broker_username"]!r} on virtual host {broker["broker_virtual_host"] or "/"!r}: '
            'check the broker user, password and virtual host'
        ) from None


def _broker_config(
    protocol: str, host: str, port: int, username: str, password: str, virtual_host: str
) -> dict[str, Any]:
    return {
        'broker_protocol': protocol,
        'broker_username': username,
        'broker_password': password,
        'broker_host': host,
        'broker_port': int(port),
        'broker_virtual_host': virtual_host,
    }


def _identifier(text: str) -> str:
    """A PostgreSQL-friendly name: lower case letters, digits and underscores."""
    return re.sub(r'[^a-z0-9_]', '_', text.lower())


# ------------------------------------------------------------------------------------------------ setup
def setup_server(
    profile_name: str,
    *,
    email: str,
    postgres_hostname: str = 'localhost',
    postgres_port: int = 5432,
    postgres_username: str = 'postgres',
    postgres_password: str | None = None,
    database_name: str | None = None,
    database_username: str | None = None,
    database_password: str | None = None,
    repository: str | None = None,
    broker_host: str = '127.0.0.1',
    broker_port: int = 5672,
    broker_username: str = 'guest',
    broker_password: str = 'guest',
    broker_virtual_host: str = '',
    broker_protocol: str = 'amqp',
    set_default: bool = True,
    echo: Callable[[str], None] = click.echo,
) -> dict[str, Any]:
    """Create the PostgreSQL user and database, and a ``core.psql_dos`` + ``core.rabbitmq`` profile on them with
    caching of the aiida-ssb analyses enabled. Both services are checked before anything is created; when the
    profile cannot be created, the database and user made here are dropped again (nothing half made remains).

    :returns: the join-file content (storage and broker configuration) for further machines.
    """
    from aiida.common import exceptions
    from aiida.manage.configuration import create_profile, get_config

    config = get_config(create=True)
    if profile_name in config.profile_names:
        raise ServerError(f'the profile {profile_name!r} already exists in {config.dirpath} (see `verdi profile list`)')
    database_name = database_name or f'aiida_ssb_{_identifier(profile_name)}'
    database_username = database_username or database_name
    broker = _broker_config(
        broker_protocol, broker_host, broker_port, broker_username, broker_password, broker_virtual_host
    )
    # both services first: nothing is created when one of them is missing or refuses the credentials
    probe_tcp(postgres_hostname, postgres_port, 'PostgreSQL')
    probe_tcp(broker_host, broker_port, 'RabbitMQ')
    _probe_rabbitmq(broker)
    connection = _admin_connection(postgres_hostname, postgres_port, postgres_username, postgres_password)
    created_role = created_database = False
    try:
        role_exists = _exists(connection, 'SELECT 1 FROM pg_roles WHERE rolname = %s', database_username)
        if role_exists and database_password is None:
            raise ServerError(
                f'the PostgreSQL user {database_username!r} already exists on {postgres_hostname}:'
                f'{postgres_port}: give its --database-password or choose another --database-username'
            )
        if _exists(connection, 'SELECT 1 FROM pg_database WHERE datname = %s', database_name):
            raise ServerError(
                f'the database {database_name!r} already exists on {postgres_hostname}:{postgres_port}: '
                'choose another --database-name (to connect this machine to an existing lab database, '
                'use `aiida-ssb server join`)'
            )
        password = database_password or secrets.token_hex(16)
        if not role_exists:
            _create_role(connection, database_username, password)
            created_role = True
        _create_database(connection, database_name, database_username)
        created_database = True
        repository_path = (
            pathlib.Path(repository).expanduser().resolve()
            if repository
            else (pathlib.Path(config.dirpath) / 'repository' / profile_name)
        )
        storage = {
            'database_engine': 'postgresql_psycopg',
            'database_hostname': postgres_hostname,
            'database_port': int(postgres_port),
            'database_username': database_username,
            'database_password': password,
            'database_name': database_name,
            'repository_uri': repository_path.as_uri(),
        }
        echo(
            f'Creating the profile {profile_name!r}: database {database_name!r} on {postgres_hostname}:{postgres_port}, '
            f'broker {broker_host}:{broker_port}, file repository {repository_path}'
        )
        try:
            profile = create_profile(
                config,
                name=profile_name,
                email=email,
                storage_backend='core.psql_dos',
                storage_config=storage,
                broker_backend='core.rabbitmq',
                broker_config=broker,
            )
        except (ValueError, TypeError, exceptions.EntryPointError, exceptions.StorageMigrationError) as exc:
            raise ServerError(f'the profile could not be created: {exc}') from None
    except BaseException:
        if created_database:
            _drop_database(connection, database_name)
        if created_role:
            _drop_role(connection, database_username)
        connection.close()
        raise
    connection.close()
    _configure_profile(config, profile.name, set_default=set_default)
    join = {
        'format': JOIN_FILE_FORMAT,
        'version': 1,
        'profile': profile.name,
        'email': email,
        # the broker's queue names derive from the profile UUID: a joined machine must use the same one, or its
        # workers would listen on queues nobody submits to
        'profile_uuid': profile.uuid,
        'storage': {'backend': 'core.psql_dos', 'config': storage},
        'process_control': {'backend': 'core.rabbitmq', 'config': broker},
    }
    return join


def _exists(connection, query: str, value: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(query, (value,))
        return cursor.fetchone() is not None


def _create_role(connection, name: str, password: str) -> None:
    from psycopg import sql

    with connection.cursor() as cursor:
        cursor.execute(sql.SQL('CREATE ROLE {} LOGIN PASSWORD {}').format(sql.Identifier(name), sql.Literal(password)))
        # some installations need the administrator to be a member before it may make the role a database owner
        cursor.execute(sql.SQL('GRANT {} TO current_user').format(sql.Identifier(name)))


def _create_database(connection, name: str, owner: str) -> None:
    """UTF-8, with the server's default locale (``verdi presto`` insists on en_US.UTF-8, often missing)."""
    from psycopg import sql

    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                sql.Identifier(name), sql.Identifier(owner)
            )
        )


def _drop_database(connection, name: str) -> None:
    from psycopg import sql

    with connection.cursor() as cursor:
        cursor.execute(sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)').format(sql.Identifier(name)))


def _drop_role(connection, name: str) -> None:
    from psycopg import sql

    with connection.cursor() as cursor:
        cursor.execute(sql.SQL('DROP ROLE IF EXISTS {}').format(sql.Identifier(name)))


def _configure_profile(config, profile_name: str, *, set_default: bool) -> None:
    """Caching of the analyses (daemon re-analyses reuse unchanged steps), a 1 s poll interval, default profile."""
    config.set_option('caching.enabled_for', [CACHED_ANALYSES], scope=profile_name)
    config.set_option('runner.poll.interval', 1, scope=profile_name)
    if set_default:
        config.set_default_profile(profile_name, overwrite=True)
    config.store()


def write_join_file(join: dict[str, Any], path: pathlib.Path) -> pathlib.Path:
    """Write the join file readable by its owner only (it holds the database password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, 'w', encoding='utf-8') as handle:
        json.dump(join, handle, indent=2)
        handle.write('\n')
    return path


# ------------------------------------------------------------------------------------------------ join
def read_join_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a join file written by ``server setup``."""
    try:
        join = json.loads(pathlib.Path(path).read_text(encoding='utf-8'))
    except (OSError, json.JSONDecodeError) as exc:
        raise ServerError(f'cannot read the join file {path}: {exc}') from None
    if not isinstance(join, dict) or join.get('format') != JOIN_FILE_FORMAT:
        raise ServerError(f'{path} is not a join file written by `aiida-ssb server setup`')
    missing = [key for key in ('storage', 'process_control', 'email', 'profile_uuid') if key not in join]
    if missing:
        raise ServerError(f'the join file {path} lacks {", ".join(missing)}')
    return join


def join_server(
    join: dict[str, Any],
    profile_name: str,
    *,
    email: str | None = None,
    database_hostname: str | None = None,
    database_port: int | None = None,
    broker_host: str | None = None,
    broker_port: int | None = None,
    repository: str | None = None,
    set_default: bool = True,
) -> str:
    """Add the lab database of a join file to this machine's AiiDA configuration as ``profile_name``.

    Nothing is initialised: the database must already hold an AiiDA schema and the file repository must be
    visible from this machine at the same path (a shared file system) or at ``repository``. The profile keeps
    the server profile's UUID, from which the broker's queue names derive, so that work submitted on any
    machine reaches the daemon workers of every machine. Host names may be
    overridden where this machine reaches the services under other names. Returns the email of the user this
    machine records work under (``email`` or the server's; created in the database when new)."""
    from aiida.manage.configuration import get_config, profile_context
    from aiida.manage.configuration.profile import Profile

    config = get_config(create=True)
    if profile_name in config.profile_names:
        raise ServerError(f'the profile {profile_name!r} already exists in {config.dirpath} (see `verdi profile list`)')
    storage = dict(join['storage']['config'])
    broker = dict(join['process_control']['config'])
    if database_hostname:
        storage['database_hostname'] = database_hostname
    if database_port:
        storage['database_port'] = int(database_port)
    if broker_host:
        broker['broker_host'] = broker_host
    if broker_port:
        broker['broker_port'] = int(broker_port)
    if repository:
        storage['repository_uri'] = pathlib.Path(repository).expanduser().resolve().as_uri()
    probe_tcp(storage['database_hostname'], storage['database_port'], 'PostgreSQL')
    _probe_rabbitmq(broker)
    connection = _admin_connection(
        storage['database_hostname'],
        storage['database_port'],
        storage['database_username'],
        storage['database_password'],
        dbname=storage['database_name'],
    )
    try:
        if not _exists(connection, 'SELECT 1 FROM information_schema.tables WHERE table_name = %s', 'db_dbnode'):
            raise ServerError(
                f'the database {storage["database_name"]!r} on {storage["database_hostname"]}:'
                f'{storage["database_port"]} holds no AiiDA storage: set the server up first'
            )
    finally:
        connection.close()
    repository_path = pathlib.Path(storage['repository_uri'].removeprefix('file://'))
    if not (repository_path / 'container' / 'config.json').is_file():  # the disk-objectstore container
        raise ServerError(
            f'the file repository {repository_path} is not visible from this machine: mount the '
            "server's repository folder (e.g. over NFS) there, or give its mount point with --repository"
        )
    profile = Profile(
        profile_name,
        {
            'storage': {'backend': join['storage']['backend'], 'config': storage},
            'process_control': {'backend': join['process_control']['backend'], 'config': broker},
            'test_profile': False,
            Profile.KEY_UUID: join['profile_uuid'],  # same broker queues as the server profile
        },
    )
    config.add_profile(profile)
    config.store()
    user_email = email or join['email']
    with profile_context(profile_name, allow_switch=True):
        from aiida import orm
        from aiida.manage import get_manager

        if not orm.User.collection.find({'email': user_email}):
            orm.User(email=user_email).store()
        get_manager().set_default_user_email(config.get_profile(profile_name), user_email)
    _configure_profile(config, profile_name, set_default=set_default)
    return user_email


# ------------------------------------------------------------------------------------------------ daemon
def _daemon_client(profile_name: str):
    """The daemon client of a profile; ``verdi`` is taken from beside this interpreter when not on PATH."""
    import aiida.engine.daemon.client as client_module

    if client_module.VERDI_BIN is None:
        beside = pathlib.Path(sys.executable).parent / 'verdi'
        if beside.is_file():
            client_module.VERDI_BIN = str(beside)
    return client_module.get_daemon_client(profile_name)


def set_workers(profile_name: str, number: int) -> list[int]:
    """Run exactly ``number`` daemon workers for the profile (start the daemon, or add/remove workers);
    returns the worker pids."""
    from aiida.engine.daemon.client import DaemonException

    client = _daemon_client(profile_name)
    try:
        if not client.is_daemon_running:
            client.start_daemon(number_workers=number)
        else:
            current = client.get_number_of_workers()
            if number > current:
                client.increase_workers(number - current, wait=True)
            elif number < current:
                client.decrease_workers(current - number, wait=True)
        return worker_pids(profile_name)
    except DaemonException as exc:
        raise ServerError(f'the daemon of {profile_name!r} could not be started: {exc}') from None


def worker_pids(profile_name: str) -> list[int]:
    """The pids of the running daemon workers of a profile (empty when the daemon is not running)."""
    from aiida.engine.daemon.client import DaemonException

    client = _daemon_client(profile_name)
    if not client.is_daemon_running:
        return []
    try:
        info = client.get_worker_info().get('info', {})
    except DaemonException:
        return []
    return sorted(int(pid) for pid in info)


# ------------------------------------------------------------------------------------------------ orphans
def orphaned_processes() -> list:
    """aiida-ssb process functions (``analyse_*``, ``summarise_cell``...) still marked created, waiting or running
    although the workchain that called them has terminated.

    A process function runs inside the step of its workchain and has no checkpoint. When a daemon worker dies
    (killed, out of memory, machine lost), RabbitMQ hands the workchain to another worker, which resumes it from
    its last checkpoint and runs the interrupted step again; the process functions the dead worker was running
    stay behind, called by the workchain but never finished (nothing can ever finish them). They are not outputs
    of anything, so results are unaffected; they only clutter process lists."""
    from aiida import orm

    query = orm.QueryBuilder()
    query.append(
        (orm.CalcFunctionNode, orm.WorkFunctionNode),
        tag='function',
        project='*',
        filters={'process_type': {'like': '%ssb.%'}, 'attributes.process_state': {'in': list(_ACTIVE_STATES)}},
    )
    query.append(
        orm.WorkflowNode,
        with_outgoing='function',
        tag='caller',
        filters={'attributes.process_state': {'in': ['finished', 'excepted', 'killed']}},
    )
    query.order_by({'function': {'id': 'asc'}})
    return list({node.pk: node for node in query.all(flat=True)}.values())


def tidy_orphans(dry_run: bool = False) -> list[int]:
    """Mark every :func:`orphaned_processes` node as killed (with the reason as process status) and seal it;
    returns their pks."""
    from aiida.engine import ProcessState

    pks = []
    for node in orphaned_processes():
        pks.append(node.pk)
        if dry_run:
            continue
        node.set_process_status(
            'orphaned: its daemon worker was lost while it ran; the calling workchain resumed '
            'elsewhere and finished without it (closed by `aiida-ssb server tidy`)'
        )
        node.set_process_state(ProcessState.KILLED)
        node.seal()
    return pks


# ------------------------------------------------------------------------------------------------ status
def server_status(profile) -> dict[str, Any]:
    """Storage, broker, caching, daemon and the active aiida-ssb processes of a (loaded) profile."""
    status: dict[str, Any] = {'profile': profile.name}
    storage = profile.storage_config
    backend = profile.storage_backend
    entry: dict[str, Any] = {'backend': backend}
    if backend == 'core.psql_dos':
        host, port = storage['database_hostname'], storage['database_port']
        entry['location'] = f'postgresql://{storage["database_username"]}@{host}:{port}/{storage["database_name"]}'
        try:
            probe_tcp(host, port, 'PostgreSQL')
        except ServerError as exc:
            entry['error'] = str(exc)
    else:
        entry['location'] = storage.get('filepath') or storage.get('repository_uri') or ''
    entry['repository'] = storage.get('repository_uri', storage.get('filepath', ''))
    if 'error' not in entry:
        try:
            from aiida import orm

            entry['nodes'] = orm.QueryBuilder().append(orm.Node).count()
            entry['cells'] = orm.QueryBuilder().append(_cell_class()).count()
        except Exception as exc:  # a storage that is reachable but not usable (schema, credentials)
            entry['error'] = f'storage not usable: {str(exc).splitlines()[0]}'
    status['storage'] = entry

    broker_entry: dict[str, Any] = {'backend': profile.process_control_backend}
    broker = profile.process_control_config or {}
    if profile.process_control_backend == 'core.rabbitmq':
        broker_entry['location'] = (
            f'{broker.get("broker_protocol", "amqp")}://{broker.get("broker_username")}@'
            f'{broker.get("broker_host")}:{broker.get("broker_port")}/'
            f'{broker.get("broker_virtual_host", "")}'
        )
        try:
            _probe_rabbitmq(broker)
        except ServerError as exc:
            broker_entry['error'] = str(exc)
    status['broker'] = broker_entry

    from aiida.manage.configuration import get_config

    status['caching_enabled_for'] = list(get_config().get_option('caching.enabled_for', scope=profile.name) or [])
    pids: list[int] = []
    running = False
    if profile.process_control_backend is not None:
        client = _daemon_client(profile.name)
        running = client.is_daemon_running
        pids = worker_pids(profile.name) if running else []
    status['daemon'] = {'running': running, 'workers': pids}
    if 'error' in entry:
        status['processes'], status['orphaned'] = [], []
    else:
        orphans = {node.pk for node in orphaned_processes()}
        status['processes'] = [p for p in _active_processes() if p['pk'] not in orphans]
        status['orphaned'] = sorted(orphans)
    return status


def _cell_class():
    from aiida_ssb.data.cell import CellData

    return CellData


def _active_processes() -> list[dict[str, Any]]:
    from aiida import orm

    query = orm.QueryBuilder().append(
        orm.ProcessNode,
        tag='p',
        project=['id', 'attributes.process_label', 'label', 'attributes.process_state', 'ctime'],
        filters={'process_type': {'like': '%ssb.%'}, 'attributes.process_state': {'in': list(_ACTIVE_STATES)}},
    )
    query.order_by({'p': {'id': 'asc'}})
    return [
        {'pk': pk, 'process': label, 'label': node_label, 'state': state, 'created': ctime}
        for pk, label, node_label, state, ctime in query.all()
    ]


def _print_status(status: dict[str, Any], limit: int) -> None:
    from tabulate import tabulate

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


def _postgres_options(function: Callable) -> Callable:
    decorators = [
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
        click.option('--postgres-password', default=None, help='Its password (none for trust/peer authentication).'),
        click.option('--database-name', default=None, help='Name of the new database [default: aiida_ssb_PROFILE].'),
        click.option(
            '--database-username',
            default=None,
            help='Owner of the new database, created when missing [default: the database name].',
        ),
        click.option(
            '--database-password',
            default=None,
            help='Its password [default: a random one, kept in the profile and the join file].',
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _broker_options(function: Callable) -> Callable:
    decorators = [
        click.option('--broker-host', default='127.0.0.1', show_default=True, help='Host name of the RabbitMQ server.'),
        click.option('--broker-port', type=int, default=5672, show_default=True, help='Port of the RabbitMQ server.'),
        click.option('--broker-username', default='guest', show_default=True, help='RabbitMQ user.'),
        click.option('--broker-password', default='guest', show_default=True, help='Its password.'),
        click.option('--broker-virtual-host', default='', help='RabbitMQ virtual host [default: the default one].'),
        click.option(
            '--broker-protocol',
            type=click.Choice(['amqp', 'amqps']),
            default='amqp',
            show_default=True,
            help='amqps for TLS.',
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


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
    help='Where to write the join file for further machines [default: AIIDA_PATH/.aiida/ssb-join-PROFILE.json].',
)
@_clean
def cmd_server_setup(
    profile_name,
    email,
    postgres_hostname,
    postgres_port,
    postgres_username,
    postgres_password,
    database_name,
    database_username,
    database_password,
    repository,
    broker_host,
    broker_port,
    broker_username,
    broker_password,
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
    nothing."""
    from aiida.manage.configuration import get_config

    join = setup_server(
        profile_name,
        email=email,
        postgres_hostname=postgres_hostname,
        postgres_port=postgres_port,
        postgres_username=postgres_username,
        postgres_password=postgres_password,
        database_name=database_name,
        database_username=database_username,
        database_password=database_password,
        repository=repository,
        broker_host=broker_host,
        broker_port=broker_port,
        broker_username=broker_username,
        broker_password=broker_password,
        broker_virtual_host=broker_virtual_host,
        broker_protocol=broker_protocol,
        set_default=set_default,
    )
    config = get_config()
    path = pathlib.Path(join_file) if join_file else pathlib.Path(config.dirpath) / f'ssb-join-{profile_name}.json'
    write_join_file(join, path)
    click.secho('Success: ', fg='green', bold=True, nl=False)
    click.echo(
        f'profile {profile_name!r} created (caching of {CACHED_ANALYSES} enabled'
        + (', default profile)' if set_default else ')')
    )
    click.echo(f'Join file (holds the database password, readable by you only): {path}')
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
    pks = tidy_orphans(dry_run=dry_run)
    if not pks:
        click.echo('No orphaned process functions.')
        return
    verb = 'would be closed' if dry_run else 'closed (killed)'
    click.echo(f'{len(pks)} orphaned process function(s) {verb}: pks {", ".join(map(str, pks))}')
