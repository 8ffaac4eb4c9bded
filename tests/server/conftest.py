"""Fixtures of the shared-lab-server tests: PostgreSQL + RabbitMQ on 127.0.0.1 and a throw-away server profile.

The tests skip, with the reason, when PostgreSQL (127.0.0.1:5432) or RabbitMQ (127.0.0.1:5672) does not accept a
TCP connection (a plain socket probe: no database or AMQP client is involved in deciding to skip).

``lab_server`` creates, once per session, a profile with ``aiida-ssb server setup`` in a temporary ``AIIDA_PATH``
(a database with a unique name, the RabbitMQ broker, two daemon workers); every command runs in a subprocess with
that ``AIIDA_PATH``, so the pytest process keeps AiiDA's temporary SQLite test profile. At the end the daemon is
stopped and the database and its owner are dropped.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import secrets
import socket
import subprocess
import sys
import time

import pytest

POSTGRES = ('127.0.0.1', 5432)
RABBITMQ = ('127.0.0.1', 5672)
BIN = pathlib.Path(sys.executable).parent
HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent


def _unreachable(address: tuple[str, int]) -> str | None:
    try:
        with socket.create_connection(address, timeout=2):
            return None
    except OSError as exc:
        return exc.strerror or exc.__class__.__name__


@pytest.fixture(scope='session')
def services() -> None:
    """Skip unless PostgreSQL and RabbitMQ accept connections on 127.0.0.1."""
    for name, address in (('PostgreSQL', POSTGRES), ('RabbitMQ', RABBITMQ)):
        reason = _unreachable(address)
        if reason is not None:
            pytest.skip(
                f'{name} is not reachable at {address[0]}:{address[1]} ({reason}): the lab-server tests need '
                'PostgreSQL and RabbitMQ'
            )
    if not (BIN / 'aiida-ssb').is_file() or not (BIN / 'verdi').is_file():
        pytest.skip(f'the aiida-ssb and verdi scripts are not installed beside {sys.executable}')


@dataclasses.dataclass
class LabServer:
    """A server profile in its own AIIDA_PATH, driven through subprocesses."""

    profile: str
    aiida_path: pathlib.Path
    database: str
    join_file: pathlib.Path

    def env(self, aiida_path: pathlib.Path | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.pop('AIIDA_PROFILE', None)
        env['AIIDA_PATH'] = str(aiida_path or self.aiida_path)
        env['PATH'] = f'{BIN}{os.pathsep}{env.get("PATH", "")}'
        env['PYTHONWARNINGS'] = 'ignore'
        return env

    def run(
        self,
        *args: str,
        timeout: float = 120,
        check: bool = True,
        aiida_path: pathlib.Path | None = None,
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            list(args),
            env=self.env(aiida_path),
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=str(REPO),
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f'{" ".join(args)} exited with {result.returncode}\nstdout:\n{result.stdout}\n'
                f'stderr:\n{result.stderr}\n{self.log_tail()}'
            )
        return result

    def ssb(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        """``aiida-ssb -p PROFILE ARGS``."""
        return self.run(str(BIN / 'aiida-ssb'), '-p', self.profile, *args, **kwargs)

    def ssb_async(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [str(BIN / 'aiida-ssb'), '-p', self.profile, *args],
            env=self.env(),
            cwd=str(REPO),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def verdi(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self.run(str(BIN / 'verdi'), '-p', self.profile, *args, **kwargs)

    def query(self, command: str, **arguments):
        """A graph query of ``queries.py`` in a subprocess; its JSON answer."""
        result = self.run(sys.executable, str(HERE / 'queries.py'), self.profile, command, json.dumps(arguments))
        return json.loads(result.stdout.strip().splitlines()[-1])

    def status(self) -> dict:
        result = self.ssb('server', 'status', '--json')
        return json.loads(result.stdout[result.stdout.index('{') :])

    def log_tail(self, lines: int = 40) -> str:
        log = self.aiida_path / '.aiida' / 'daemon' / 'log' / f'aiida-{self.profile}.log'
        if not log.is_file():
            return ''
        text = log.read_text(errors='replace').splitlines()[-lines:]
        return 'daemon log (tail):\n' + '\n'.join(text)

    def daemon_log(self) -> str:
        log = self.aiida_path / '.aiida' / 'daemon' / 'log' / f'aiida-{self.profile}.log'
        return log.read_text(errors='replace') if log.is_file() else ''

    def wait_idle(self, timeout: float = 180, after: int = 0) -> dict:
        """Poll until no aiida-ssb process is created, waiting or running (orphaned process functions aside)."""
        deadline = time.monotonic() + timeout
        activity = {}
        while time.monotonic() < deadline:
            activity = self.query('activity', after=after)
            if not activity['active']:
                return activity
            time.sleep(2)
        raise AssertionError(f'processes still active after {timeout} s: {activity}\n{self.log_tail()}')


@pytest.fixture(scope='session')
def lab_server(services, tmp_path_factory) -> LabServer:
    """A fresh server profile (unique database, RabbitMQ, 2 daemon workers); dropped at the end of the session."""
    from aiida_ssb.server.services import admin_connection as _admin_connection
    from aiida_ssb.server.services import drop_database as _drop_database
    from aiida_ssb.server.services import drop_role as _drop_role

    token = secrets.token_hex(4)
    root = tmp_path_factory.mktemp('lab-server')
    server = LabServer(
        profile=f'ssb-test-{token}',
        aiida_path=root / 'server',
        database=f'aiida_ssb_test_{token}',
        join_file=root / 'join.json',
    )
    server.aiida_path.mkdir()
    try:
        server.run(
            str(BIN / 'aiida-ssb'),
            'server',
            'setup',
            '--profile-name',
            server.profile,
            '--email',
            'lab@test',
            '--postgres-hostname',
            POSTGRES[0],
            '--postgres-port',
            str(POSTGRES[1]),
            '--database-name',
            server.database,
            '--broker-host',
            RABBITMQ[0],
            '--broker-port',
            str(RABBITMQ[1]),
            '--workers',
            '2',
            '--join-file',
            str(server.join_file),
            timeout=180,
        )
        yield server
    finally:
        for aiida_path, profile in ((root / 'joined', f'{server.profile}-joined'), (server.aiida_path, server.profile)):
            if (aiida_path / '.aiida' / 'config.json').is_file():
                server.run(
                    str(BIN / 'verdi'), '-p', profile, 'daemon', 'stop', check=False, aiida_path=aiida_path, timeout=60
                )
        connection = _admin_connection(POSTGRES[0], POSTGRES[1], 'postgres', None)
        try:
            _drop_database(connection, server.database)
            _drop_role(connection, server.database)
        finally:
            connection.close()


@pytest.fixture(scope='session')
def demo_campaigns(tmp_path_factory) -> pathlib.Path:
    """The reduced demonstration campaigns (manifests + .mpt files), generated into a temporary folder."""
    sys.path.insert(0, str(REPO))
    from aiida_ssb.demo import generate_campaigns

    folder = tmp_path_factory.mktemp('demo')
    generate_campaigns(folder, reduced=True)
    return folder
