"""The shared lab server as a library: PostgreSQL storage, RabbitMQ broker, daemon workers, secrets.

The ``aiida-ssb server`` commands (:mod:`aiida_ssb.cli.server`) are thin click wrappers around these modules:

* :mod:`~aiida_ssb.server.services`: reaching PostgreSQL and RabbitMQ (probes, administrator connection);
* :mod:`~aiida_ssb.server.profile`: creating a server profile, writing and reading join files, joining;
* :mod:`~aiida_ssb.server.daemon`: daemon workers;
* :mod:`~aiida_ssb.server.status`: what the server is doing, orphaned process functions;
* :mod:`~aiida_ssb.server.secrets`: passwords from a file, a prompt or the environment (never the command line).
"""

from aiida_ssb.exceptions import ServerError
from aiida_ssb.server.daemon import set_workers, worker_pids
from aiida_ssb.server.profile import (
    CACHED_ANALYSES,
    JOIN_FILE_FORMAT,
    join_server,
    read_join_file,
    setup_server,
    write_join_file,
)
from aiida_ssb.server.secrets import read_secret
from aiida_ssb.server.services import probe_tcp
from aiida_ssb.server.status import orphaned_processes, server_status, tidy_orphans

__all__ = [
    'CACHED_ANALYSES',
    'JOIN_FILE_FORMAT',
    'ServerError',
    'join_server',
    'orphaned_processes',
    'probe_tcp',
    'read_join_file',
    'read_secret',
    'server_status',
    'set_workers',
    'setup_server',
    'tidy_orphans',
    'worker_pids',
    'write_join_file',
]
