"""What a lab server is doing: storage, broker, caching, daemon workers, active and orphaned processes."""

from __future__ import annotations

from typing import Any

from aiida import orm
from aiida.engine import ProcessState
from aiida.manage.configuration import get_config

from aiida_ssb.data.cell import CellData
from aiida_ssb.exceptions import ServerError
from aiida_ssb.server.daemon import daemon_client, worker_pids
from aiida_ssb.server.services import probe_rabbitmq, probe_tcp

__all__ = ['ACTIVE_STATES', 'active_processes', 'orphaned_processes', 'server_status', 'tidy_orphans']

#: process states that count as active
ACTIVE_STATES = ('created', 'waiting', 'running')


def orphaned_processes() -> list:
    """aiida-ssb process functions (``analyse_*``, ``summarise_cell``...) still marked created, waiting or running
    although the workchain that called them has terminated.

    A process function runs inside the step of its workchain and has no checkpoint. When a daemon worker dies
    (killed, out of memory, machine lost), RabbitMQ hands the workchain to another worker, which resumes it from
    its last checkpoint and runs the interrupted step again; the process functions the dead worker was running
    stay behind, called by the workchain but never finished (nothing can ever finish them). They are not outputs
    of anything, so results are unaffected; they only clutter process lists.

    A worker killed while a process function was finishing can also leave it marked ``finished`` without an exit
    status (aiida-core stores the state before the exit status): it never finished either, and counts too."""
    unfinished = {
        'or': [
            {'attributes.process_state': {'in': list(ACTIVE_STATES)}},
            {'and': [{'attributes.process_state': {'==': 'finished'}}, {'attributes': {'!has_key': 'exit_status'}}]},
        ]
    }
    query = orm.QueryBuilder()
    query.append(
        (orm.CalcFunctionNode, orm.WorkFunctionNode),
        tag='function',
        project='*',
        filters={'and': [{'process_type': {'like': '%ssb.%'}}, unfinished]},
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
        if not node.is_sealed:
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
            entry['nodes'] = orm.QueryBuilder().append(orm.Node).count()
            entry['cells'] = orm.QueryBuilder().append(CellData).count()
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
            probe_rabbitmq(broker)
        except ServerError as exc:
            broker_entry['error'] = str(exc)
    status['broker'] = broker_entry

    status['caching_enabled_for'] = list(get_config().get_option('caching.enabled_for', scope=profile.name) or [])
    pids: list[int] = []
    running = False
    if profile.process_control_backend is not None:
        client = daemon_client(profile.name)
        running = client.is_daemon_running
        pids = worker_pids(profile.name) if running else []
    status['daemon'] = {'running': running, 'workers': pids}
    if 'error' in entry:
        status['processes'], status['orphaned'] = [], []
    else:
        orphans = {node.pk for node in orphaned_processes()}
        status['processes'] = [p for p in active_processes() if p['pk'] not in orphans]
        status['orphaned'] = sorted(orphans)
    return status


def active_processes() -> list[dict[str, Any]]:
    query = orm.QueryBuilder().append(
        orm.ProcessNode,
        tag='p',
        project=['id', 'attributes.process_label', 'label', 'attributes.process_state', 'ctime'],
        filters={'process_type': {'like': '%ssb.%'}, 'attributes.process_state': {'in': list(ACTIVE_STATES)}},
    )
    query.order_by({'p': {'id': 'asc'}})
    return [
        {'pk': pk, 'process': label, 'label': node_label, 'state': state, 'created': ctime}
        for pk, label, node_label, state, ctime in query.all()
    ]
