"""``aiida-ssb server`` without services: unreachable PostgreSQL or RabbitMQ, bad join files, the status of a profile
whose services are down. Every failure is one line naming the service and host:port, without a traceback, and
nothing is created. Each command runs in a subprocess with its own temporary AIIDA_PATH."""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest

BIN = pathlib.Path(sys.executable).parent


def _free_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _run(aiida_path: pathlib.Path, *args: str) -> subprocess.CompletedProcess:
    script = BIN / 'aiida-ssb'
    if not script.is_file():
        pytest.skip(f'the aiida-ssb script is not installed beside {sys.executable}')
    env = dict(os.environ, AIIDA_PATH=str(aiida_path), PYTHONWARNINGS='ignore')
    env.pop('AIIDA_PROFILE', None)
    return subprocess.run([str(script), *args], env=env, check=False, capture_output=True, text=True, timeout=60)


def _profiles(aiida_path: pathlib.Path) -> list[str]:
    config = aiida_path / '.aiida' / 'config.json'
    return list(json.loads(config.read_text()).get('profiles', {})) if config.is_file() else []


def test_setup_names_unreachable_postgres(tmp_path):
    port = _free_port()
    result = _run(
        tmp_path,
        'server',
        'setup',
        '--profile-name',
        'lab',
        '--postgres-hostname',
        '127.0.0.1',
        '--postgres-port',
        str(port),
    )
    assert result.returncode == 1
    assert f'cannot reach PostgreSQL at 127.0.0.1:{port}' in result.stderr
    assert 'Traceback' not in result.stderr
    assert _profiles(tmp_path) == []


def test_setup_names_unreachable_rabbitmq(tmp_path):
    with socket.socket() as listener:  # something that accepts connections stands in for PostgreSQL
        listener.bind(('127.0.0.1', 0))
        listener.listen(4)
        database_port = listener.getsockname()[1]
        broker_port = _free_port()
        result = _run(
            tmp_path,
            'server',
            'setup',
            '--profile-name',
            'lab',
            '--postgres-hostname',
            '127.0.0.1',
            '--postgres-port',
            str(database_port),
            '--broker-port',
            str(broker_port),
        )
    assert result.returncode == 1
    assert f'cannot reach RabbitMQ at 127.0.0.1:{broker_port}' in result.stderr
    assert 'Traceback' not in result.stderr
    assert _profiles(tmp_path) == []


def test_join_refuses_bad_files(tmp_path):
    not_json = tmp_path / 'notes.txt'
    not_json.write_text('hello')
    result = _run(tmp_path, 'server', 'join', str(not_json))
    assert result.returncode == 1 and 'cannot read the join file' in result.stderr
    other = tmp_path / 'other.json'
    other.write_text(json.dumps({'format': 'something else'}))
    result = _run(tmp_path, 'server', 'join', str(other))
    assert result.returncode == 1 and 'is not a join file written by `aiida-ssb server setup`' in result.stderr
    partial = tmp_path / 'partial.json'
    partial.write_text(json.dumps({'format': 'aiida-ssb server profile', 'storage': {}}))
    result = _run(tmp_path, 'server', 'join', str(partial))
    assert result.returncode == 1 and 'lacks process_control, email, profile_uuid' in result.stderr
    assert 'Traceback' not in result.stderr


def test_status_of_a_profile_whose_services_are_down(tmp_path):
    """A server profile whose PostgreSQL and RabbitMQ are gone: status names both, exits with 3."""
    database_port, broker_port = _free_port(), _free_port()
    config = {
        'CONFIG_VERSION': {'CURRENT': 10, 'OLDEST_COMPATIBLE': 10},
        'default_profile': 'lab',
        'profiles': {
            'lab': {
                'storage': {
                    'backend': 'core.psql_dos',
                    'config': {
                        'database_engine': 'postgresql_psycopg',
                        'database_hostname': '127.0.0.1',
                        'database_port': database_port,
                        'database_username': 'lab',
                        'database_password': 'x',
                        'database_name': 'lab',
                        'repository_uri': (tmp_path / 'repository').as_uri(),
                    },
                },
                'process_control': {
                    'backend': 'core.rabbitmq',
                    'config': {
                        'broker_protocol': 'amqp',
                        'broker_username': 'guest',
                        'broker_password': 'guest',
                        'broker_host': '127.0.0.1',
                        'broker_port': broker_port,
                        'broker_virtual_host': '',
                    },
                },
                'PROFILE_UUID': '0' * 32,
                'options': {},
                'default_user_email': 'lab@test',
            }
        },
    }
    (tmp_path / '.aiida').mkdir()
    (tmp_path / '.aiida' / 'config.json').write_text(json.dumps(config))
    result = _run(tmp_path, 'server', 'status')
    assert result.returncode == 3, result.stdout + result.stderr
    assert f'cannot reach PostgreSQL at 127.0.0.1:{database_port}' in result.stdout
    assert f'cannot reach RabbitMQ at 127.0.0.1:{broker_port}' in result.stdout
    assert 'daemon' in result.stdout and 'Traceback' not in result.stdout + result.stderr
