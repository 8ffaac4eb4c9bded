"""Reaching the lab server's services: TCP probes, the PostgreSQL administrator connection, RabbitMQ.

Unreachable services are reported as one :class:`~aiida_ssb.exceptions.ServerError` naming ``host:port``,
never with a traceback.
"""

from __future__ import annotations

import re
import socket
from typing import Any

import psycopg
from aiida.brokers.rabbitmq.defaults import detect_rabbitmq_config
from psycopg import sql

from aiida_ssb.exceptions import ServerError

__all__ = [
    'admin_connection',
    'broker_config',
    'create_database',
    'create_role',
    'drop_database',
    'drop_role',
    'exists',
    'identifier',
    'probe_rabbitmq',
    'probe_tcp',
]


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


def admin_connection(host: str, port: int, user: str, password: str | None, dbname: str = 'postgres'):
    """An autocommit psycopg connection as the PostgreSQL administrator (or a :class:`ServerError`)."""
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


def probe_rabbitmq(broker: dict[str, Any]) -> None:
    """Connect to RabbitMQ with the profile's broker settings (``broker_*`` keys) or raise :class:`ServerError`."""
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


def broker_config(
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


def identifier(text: str) -> str:
    """A PostgreSQL-friendly name: lower case letters, digits and underscores."""
    return re.sub(r'[^a-z0-9_]', '_', text.lower())


def exists(connection, query: str, value: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(query, (value,))
        return cursor.fetchone() is not None


def create_role(connection, name: str, password: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL('CREATE ROLE {} LOGIN PASSWORD {}').format(sql.Identifier(name), sql.Literal(password)))
        # some installations need the administrator to be a member before it may make the role a database owner
        cursor.execute(sql.SQL('GRANT {} TO current_user').format(sql.Identifier(name)))


def create_database(connection, name: str, owner: str) -> None:
    """UTF-8, with the server's default locale (``verdi presto`` insists on en_US.UTF-8, often missing)."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                sql.Identifier(name), sql.Identifier(owner)
            )
        )


def drop_database(connection, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)').format(sql.Identifier(name)))


def drop_role(connection, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL('DROP ROLE IF EXISTS {}').format(sql.Identifier(name)))
