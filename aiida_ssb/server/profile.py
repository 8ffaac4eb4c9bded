"""Creating a lab-server profile and joining it from further machines.

* :func:`setup_server` creates the database, its user and an AiiDA profile (``core.psql_dos`` +
  ``core.rabbitmq``) and enables caching of the analyses for that profile; it returns the *join file* content;
* :func:`write_join_file` writes that file (mode 0600, atomically: it holds the database password);
* :func:`join_server` adds the same lab database to the AiiDA configuration of another machine (no new storage
  is initialised: every machine then works on one shared graph).

``verdi presto --use-postgres`` is not used: it creates its database with the fixed locale ``en_US.UTF-8``,
which many servers (and containers) do not have; this module creates the database with the server's default
locale instead, and so works wherever PostgreSQL runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import secrets
import tempfile
from collections.abc import Callable
from typing import Any

from aiida import orm
from aiida.common import exceptions
from aiida.manage import get_manager
from aiida.manage.configuration import create_profile, get_config, profile_context
from aiida.manage.configuration.profile import Profile

from aiida_ssb.exceptions import ServerError
from aiida_ssb.server.services import (
    admin_connection,
    broker_config,
    create_database,
    create_role,
    drop_database,
    drop_role,
    exists,
    identifier,
    probe_rabbitmq,
    probe_tcp,
)

__all__ = [
    'CACHED_ANALYSES',
    'JOIN_FILE_FORMAT',
    'configure_profile',
    'join_server',
    'read_join_file',
    'setup_server',
    'write_join_file',
]

#: the analyses whose results daemon workers reuse (entry-point pattern of ``caching.enabled_for``)
CACHED_ANALYSES = 'aiida.calculations:ssb.analyse.*'

#: the ``format`` field of a join file
JOIN_FILE_FORMAT = 'aiida-ssb server profile'


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
    echo: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Create the PostgreSQL user and database, and a ``core.psql_dos`` + ``core.rabbitmq`` profile on them with
    caching of the aiida-ssb analyses enabled. Both services are checked before anything is created; when the
    profile cannot be created, the database and user made here are dropped again (nothing half made remains).

    :returns: the join-file content (storage and broker configuration) for further machines.
    """
    config = get_config(create=True)
    if profile_name in config.profile_names:
        raise ServerError(f'the profile {profile_name!r} already exists in {config.dirpath} (see `verdi profile list`)')
    database_name = database_name or f'aiida_ssb_{identifier(profile_name)}'
    database_username = database_username or database_name
    broker = broker_config(
        broker_protocol, broker_host, broker_port, broker_username, broker_password, broker_virtual_host
    )
    # both services first: nothing is created when one of them is missing or refuses the credentials
    probe_tcp(postgres_hostname, postgres_port, 'PostgreSQL')
    probe_tcp(broker_host, broker_port, 'RabbitMQ')
    probe_rabbitmq(broker)
    connection = admin_connection(postgres_hostname, postgres_port, postgres_username, postgres_password)
    created_role = created_database = False
    try:
        role_exists = exists(connection, 'SELECT 1 FROM pg_roles WHERE rolname = %s', database_username)
        if role_exists and database_password is None:
            raise ServerError(
                f'the PostgreSQL user {database_username!r} already exists on {postgres_hostname}:'
                f'{postgres_port}: give its --database-password or choose another --database-username'
            )
        if exists(connection, 'SELECT 1 FROM pg_database WHERE datname = %s', database_name):
            raise ServerError(
                f'the database {database_name!r} already exists on {postgres_hostname}:{postgres_port}: '
                'choose another --database-name (to connect this machine to an existing lab database, '
                'use `aiida-ssb server join`)'
            )
        password = database_password or secrets.token_hex(16)
        if not role_exists:
            create_role(connection, database_username, password)
            created_role = True
        create_database(connection, database_name, database_username)
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
        (echo or (lambda text: None))(
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
            drop_database(connection, database_name)
        if created_role:
            drop_role(connection, database_username)
        connection.close()
        raise
    connection.close()
    configure_profile(config, profile.name, set_default=set_default)
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


def configure_profile(config, profile_name: str, *, set_default: bool) -> None:
    """Caching of the analyses (daemon re-analyses reuse unchanged steps), a 1 s poll interval, default profile."""
    config.set_option('caching.enabled_for', [CACHED_ANALYSES], scope=profile_name)
    config.set_option('runner.poll.interval', 1, scope=profile_name)
    if set_default:
        config.set_default_profile(profile_name, overwrite=True)
    config.store()


def write_join_file(join: dict[str, Any], path: str | os.PathLike[str]) -> pathlib.Path:
    """Write the join file readable by its owner only (it holds the database password), whatever was there.

    The content goes into a new file created with mode 0600 in the same folder, which then replaces ``path``
    (``os.replace``): an existing file of that name, whatever its mode, is replaced by a 0600 one, a symlink of
    that name is replaced (its target is not written), and an interrupted write leaves the old file or none."""
    path = pathlib.Path(path)
    if path.is_dir():
        raise ServerError(f'{path} is a folder; give the name of the join file to write')
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f'.{path.name}.', dir=path.parent)  # mode 0600
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, 'w', encoding='utf-8') as handle:
            json.dump(join, handle, indent=2)
            handle.write('\n')
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path


def read_join_file(path: str | os.PathLike[str]) -> dict[str, Any]:
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
    probe_rabbitmq(broker)
    connection = admin_connection(
        storage['database_hostname'],
        storage['database_port'],
        storage['database_username'],
        storage['database_password'],
        dbname=storage['database_name'],
    )
    try:
        if not exists(connection, 'SELECT 1 FROM information_schema.tables WHERE table_name = %s', 'db_dbnode'):
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
        if not orm.User.collection.find({'email': user_email}):
            orm.User(email=user_email).store()
        get_manager().set_default_user_email(config.get_profile(profile_name), user_email)
    configure_profile(config, profile_name, set_default=set_default)
    return user_email
