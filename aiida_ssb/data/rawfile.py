"""Raw instrument files are stored once: a registry of their SHA-256 checksums backed by a database constraint.

Storing a raw file for a sample (:func:`register_raw_file`, called inside the storing transaction) also creates
a group of type ``ssb.raw_file`` labelled with the file's SHA-256 and holding the raw
:class:`~aiida.orm.SinglefileData` node. Group labels are unique per type (a database constraint), so two
processes that store the same file at the same time (two imports, two ``import-file``) cannot both commit: the
second fails with :class:`DuplicateRawFileError` as a whole, plans again and finds the file stored. Like the
sample-id registry, these groups are hidden from ``verdi group list`` (``verdi group list -T ssb.raw_file``).
"""

from __future__ import annotations

from collections.abc import Iterable

from aiida import orm
from aiida.common.exceptions import IntegrityError

from aiida_ssb.exceptions import StorageError

__all__ = [
    'DuplicateRawFileError',
    'RawFileGroup',
    'chunked',
    'duplicate_raw_files',
    'find_raw_files',
    'register_raw_file',
    'register_raw_files',
]

#: ids per ``IN (...)`` filter: well under SQLite's and PostgreSQL's parameter limits
CHUNK = 500


class DuplicateRawFileError(StorageError):
    """A raw file whose content (SHA-256) is already stored."""


class RawFileGroup(orm.Group):
    """Registry group of one raw file's SHA-256 (entry point ``ssb.raw_file``): holds exactly that raw file node."""


def chunked(items: list, size: int = CHUNK) -> Iterable[list]:
    """``items`` in consecutive lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def register_raw_file(node: orm.SinglefileData) -> RawFileGroup:
    """Record a stored raw file in the registry; call it inside the transaction that stores the file.

    :raises DuplicateRawFileError: when a raw file with the same SHA-256 is registered (or is being registered
        by a concurrent writer, which then commits first)."""
    sha256 = node.base.attributes.get('sha256', None)
    if not sha256:
        raise StorageError(f'raw file node {node.pk} has no sha256 attribute')
    message = f'the raw file {node.filename!r} (SHA-256 {sha256[:12]}...) was stored by another process just now'
    try:
        group = RawFileGroup(label=sha256, description='raw-file registry of aiida-ssb').store()
    except IntegrityError as exc:
        raise DuplicateRawFileError(message) from exc
    group.add_nodes(node)
    return group


def find_raw_files(checksums: Iterable[str]) -> dict[str, orm.SinglefileData]:
    """``{sha256: stored raw file node}`` for the checksums that are stored, in O(n / 500) queries: through the
    registry, and by attribute for raw files that came in through an archive without their registry group."""
    wanted = list(dict.fromkeys(checksums))
    found: dict[str, orm.SinglefileData] = {}
    for part in chunked(wanted):
        query = orm.QueryBuilder().append(RawFileGroup, filters={'label': {'in': part}}, project='label', tag='group')
        query.append(orm.SinglefileData, with_group='group', project='*')
        for label, node in query.iterall():
            found.setdefault(label, node)
    missing = [sha for sha in wanted if sha not in found]
    for part in chunked(missing):
        query = orm.QueryBuilder().append(
            orm.SinglefileData, filters={'attributes.sha256': {'in': part}}, project=['attributes.sha256', '*']
        )
        query.order_by({orm.SinglefileData: {'id': 'asc'}})
        for sha256, node in query.iterall():
            found.setdefault(sha256, node)
    return found


def register_raw_files() -> int:
    """Create the registry group of every raw file that has none (after an archive import); returns how many.
    Raw files sharing a checksum are left to :func:`duplicate_raw_files` (only the oldest is registered)."""
    registered = set(orm.QueryBuilder().append(RawFileGroup, project='label').all(flat=True))
    created = 0
    query = orm.QueryBuilder().append(
        orm.SinglefileData, filters={'attributes': {'has_key': 'sha256'}}, project=['attributes.sha256', '*']
    )
    query.order_by({orm.SinglefileData: {'id': 'asc'}})
    for sha256, node in query.iterall():
        if sha256 and sha256 not in registered:
            RawFileGroup(label=sha256, description='raw-file registry of aiida-ssb').store().add_nodes(node)
            registered.add(sha256)
            created += 1
    return created


def duplicate_raw_files() -> dict[str, list[int]]:
    """``{sha256: [pks]}`` of raw file contents stored more than once (possible only through an archive import
    that bypassed ``aiida-ssb archive-import``, or in a profile written before the registry existed)."""
    seen: dict[str, list[int]] = {}
    query = orm.QueryBuilder().append(
        orm.SinglefileData, filters={'attributes': {'has_key': 'sha256'}}, project=['attributes.sha256', 'id']
    )
    for sha256, pk in query.iterall():
        seen.setdefault(sha256, []).append(pk)
    return {sha256: sorted(pks) for sha256, pks in seen.items() if len(pks) > 1}
