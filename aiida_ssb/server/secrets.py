"""Passwords for the lab server, from a file, a prompt or the environment: never from the command line.

Anything on a command line is visible to every user of the machine in the process list (``ps``), so the
``server`` commands take no password values. Each password comes, in this order, from:

1. a file (``--postgres-password-file FILE``: its first line), best kept readable by its owner only;
2. a hidden prompt (``--ask-postgres-password``);
3. an environment variable (``AIIDA_SSB_POSTGRES_PASSWORD``, ``AIIDA_SSB_DATABASE_PASSWORD``,
   ``AIIDA_SSB_BROKER_PASSWORD``);
4. the default (none for PostgreSQL's trust or peer authentication, a random one for a new database user,
   ``guest`` for RabbitMQ).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable

from aiida_ssb.exceptions import ServerError

__all__ = ['SECRET_ENVIRONMENT', 'read_secret']

#: the environment variable of each password
SECRET_ENVIRONMENT = {
    'postgres': 'AIIDA_SSB_POSTGRES_PASSWORD',
    'database': 'AIIDA_SSB_DATABASE_PASSWORD',
    'broker': 'AIIDA_SSB_BROKER_PASSWORD',
}


def read_secret(
    name: str,
    *,
    file: str | os.PathLike[str] | None = None,
    ask: bool = False,
    default: str | None = None,
    prompt: Callable[[str], str] | None = None,
) -> str | None:
    """The password ``name`` (``postgres``, ``database`` or ``broker``) from ``file``, a hidden prompt (``ask``;
    ``prompt`` asks, :func:`getpass.getpass` by default), its environment variable, else ``default``."""
    if file is not None:
        try:
            with open(file, encoding='utf-8') as handle:
                secret = handle.readline().rstrip('\r\n')
        except OSError as exc:
            raise ServerError(f'cannot read the {name} password file {file}: {exc.strerror}') from None
        if not secret:
            raise ServerError(f'the {name} password file {file} is empty (the password is its first line)')
        return secret
    if ask:
        secret = (prompt or getpass.getpass)(f'{name.capitalize()} password: ')
        if not secret:
            raise ServerError(f'no {name} password given')
        return secret
    found = os.environ.get(SECRET_ENVIRONMENT[name])
    return found if found else default
