"""Process records left behind by a killed in-process run, and closing them.

An in-process analysis (``aiida-ssb analyse`` without ``--submit``) runs its workchain and process functions in the
command's own Python process. When that process is killed (``kill -9``, a lost terminal, out of memory), nothing
is left to finish them: their records stay ``running``/``waiting`` for ever, and no broker knows them (``verdi
process kill`` cannot reach them). So every cell-analysis workchain records who runs it (the extra
``ssb_runner``: host, process id, whether it runs in process); :func:`stale_processes` finds the records whose
in-process runner on this host is gone, and :func:`close_stale` marks them killed, with the reason as their
process status, and seals them. Daemon runs are never touched here: the broker hands an interrupted daemon task
to another worker (``aiida-ssb server tidy`` closes the process functions a lost worker left behind).
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import ProcessState

from aiida_ssb.data.nodes import pk_of

__all__ = ['ACTIVE_STATES', 'RUNNER_EXTRA', 'close_stale', 'is_stale', 'record_runner', 'stale_processes']

#: the extra holding who runs a cell-analysis workchain
RUNNER_EXTRA = 'ssb_runner'

#: process states of a process that has not terminated
ACTIVE_STATES = ('created', 'waiting', 'running')


def record_runner(node: orm.ProcessNode, in_process: bool) -> None:
    """Record on ``node`` the host and process id running it now, and whether that is an in-process run."""
    node.base.extras.set(
        RUNNER_EXTRA,
        {'host': socket.gethostname(), 'pid': os.getpid(), 'in_process': in_process, 'since_unix_s': time.time()},
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def is_stale(node: orm.ProcessNode) -> bool:
    """True for an unfinished in-process run whose runner, on this host, no longer exists."""
    if node.base.attributes.get('process_state', None) not in ACTIVE_STATES:
        return False
    runner: dict[str, Any] = node.base.extras.get(RUNNER_EXTRA, None) or {}
    if not runner.get('in_process') or runner.get('host') != socket.gethostname():
        return False
    pid = runner.get('pid')
    return isinstance(pid, int) and pid != os.getpid() and not _alive(pid)


def _descendants(node: orm.ProcessNode) -> list[orm.ProcessNode]:
    found: list[orm.ProcessNode] = []
    for link in node.base.links.get_outgoing(link_type=(LinkType.CALL_CALC, LinkType.CALL_WORK)).all():
        child = link.node
        if not isinstance(child, orm.ProcessNode):  # a call link always ends at a process
            continue
        found.append(child)
        found.extend(_descendants(child))
    return found


def stale_processes() -> list[orm.ProcessNode]:
    """The aiida-ssb workflows of stale in-process runs (:func:`is_stale`) and their unfinished descendants."""
    query = orm.QueryBuilder().append(
        orm.WorkflowNode,
        filters={'process_type': {'like': '%ssb.%'}, 'attributes.process_state': {'in': list(ACTIVE_STATES)}},
        project='*',
    )
    found: dict[int, orm.ProcessNode] = {}
    for (node,) in query.iterall():
        if not is_stale(node):
            continue
        found[node.pk] = node
        for child in _descendants(node):
            if child.base.attributes.get('process_state', None) in ACTIVE_STATES:
                found[pk_of(child)] = child
    return [found[pk] for pk in sorted(found)]


def close_stale(dry_run: bool = False) -> list[int]:
    """Mark every :func:`stale_processes` record killed, with the reason, and seal it; returns their pks."""
    closed = []
    for node in stale_processes():
        closed.append(pk_of(node))
        if dry_run:
            continue
        runner = node.base.extras.get(RUNNER_EXTRA, None) or {}
        reason = (
            f'stale: the in-process run (pid {runner.get("pid")}) that ran it was killed'
            if runner
            else 'stale: called by an in-process run that was killed'
        )
        node.set_process_status(f'{reason}; closed by `aiida-ssb tidy`')
        node.set_process_state(ProcessState.KILLED)
        node.seal()
    return closed
