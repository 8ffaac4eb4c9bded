"""Daemon workers of a profile: start, resize, list."""

from __future__ import annotations

import pathlib
import sys

import aiida.engine.daemon.client as client_module
from aiida.engine.daemon.client import DaemonException

from aiida_ssb.exceptions import ServerError

__all__ = ['daemon_client', 'set_workers', 'worker_pids']


def daemon_client(profile_name: str):
    """The daemon client of a profile; ``verdi`` is taken from beside this interpreter when not on PATH."""
    if client_module.VERDI_BIN is None:
        beside = pathlib.Path(sys.executable).parent / 'verdi'
        if beside.is_file():
            client_module.VERDI_BIN = str(beside)
    return client_module.get_daemon_client(profile_name)


def set_workers(profile_name: str, number: int) -> list[int]:
    """Run exactly ``number`` daemon workers for the profile (start the daemon, or add/remove workers);
    returns the worker pids."""
    client = daemon_client(profile_name)
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
    client = daemon_client(profile_name)
    if not client.is_daemon_running:
        return []
    try:
        info = client.get_worker_info().get('info', {})
    except DaemonException:
        return []
    return sorted(int(pid) for pid in info)
