"""Physical objects with a unique, human sample id (materials and cells).

Uniqueness is enforced by the database: storing a sample also creates a group of type ``ssb.sample``
labelled with the sample id, and group labels are unique per type (a database constraint). Two
processes storing the same sample id at the same time therefore cannot both succeed, on SQLite or
PostgreSQL. These groups are hidden from ``verdi group list`` (which shows ``core`` groups by default);
``verdi group list -T ssb.sample`` lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiida import orm
from aiida.common.exceptions import IntegrityError

from aiida_ssb.data.rawfile import chunked
from aiida_ssb.exceptions import InputError, StorageError

__all__ = [
    'CURRENT_VERSIONS',
    'SUPERSEDED_EXTRA',
    'DuplicateSampleError',
    'SampleData',
    'SampleGroup',
    'SampleNotFoundError',
    'all_sample_ids',
    'duplicate_sample_ids',
    'find_sample',
    'find_sample_records',
    'find_samples',
    'load_sample',
    'register_samples',
]


#: the extra of a sample record replaced by a corrected version (``aiida-ssb amend``): the new version's uuid
SUPERSEDED_EXTRA = 'ssb_superseded_by'

#: a QueryBuilder filter keeping the current version of each record (superseded versions stay in the graph)
CURRENT_VERSIONS = {'extras': {'!has_key': SUPERSEDED_EXTRA}}


class DuplicateSampleError(StorageError, ValueError):
    """A second node with an existing sample id."""


class SampleNotFoundError(InputError, KeyError):
    """No material or cell has this sample id; the message suggests close ids."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ''


class SampleGroup(orm.Group):
    """Registry group of one sample id (entry point ``ssb.sample``): holds exactly the sample's node."""


class SampleData(orm.Data):
    """Base of :class:`MaterialData` and :class:`CellData`: a physical object with a ``sample_id``."""

    @property
    def sample_id(self) -> str:
        return self.base.attributes.get('sample_id', None)

    def store(self, **kwargs: Any) -> SampleData:
        if self.is_stored:
            return self
        sample_id = self.sample_id
        registry = _registry_group(sample_id)
        existing = _first_node(registry) if registry is not None else find_sample(sample_id)
        if existing is not None:
            raise DuplicateSampleError(
                f'sample id {sample_id!r} already exists (node {existing.pk}, {existing.__class__.__name__})'
            )
        if registry is None:
            try:
                registry = SampleGroup(label=sample_id, description='sample id registry of aiida-ssb').store()
            except IntegrityError as exc:
                raise DuplicateSampleError(f'sample id {sample_id!r} was stored by someone else just now') from exc
        super().store(**kwargs)
        registry.add_nodes(self)
        return self

    def attributes_dict(self) -> dict[str, Any]:
        return dict(self.base.attributes.all)

    def __str__(self) -> str:
        return f'{self.__class__.__name__} {self.sample_id!r}'


def _registry_group(sample_id: str) -> SampleGroup | None:
    query = orm.QueryBuilder().append(SampleGroup, filters={'label': sample_id}, project='*')
    found = query.all(flat=True)
    return found[0] if found else None


def _first_node(group: orm.Group) -> orm.Node | None:
    query = orm.QueryBuilder().append(orm.Group, filters={'id': group.pk}, tag='group')
    query.append(orm.Node, with_group='group', project='*').limit(1)
    found = query.all(flat=True)
    return found[0] if found else None


def _sample_classes() -> tuple[type, ...]:
    from aiida_ssb.data.cell import CellData  # noqa: PLC0415 import cycle: CellData subclasses SampleData (here)
    from aiida_ssb.data.material import MaterialData  # noqa: PLC0415 import cycle: as CellData

    return (MaterialData, CellData)


def find_sample(sample_id: str) -> SampleData | None:
    """The stored material or cell with this sample id, or None. Looked up through the registry group; nodes
    that came in through an archive without their registry groups are found by their attribute."""
    query = orm.QueryBuilder().append(SampleGroup, filters={'label': sample_id}, tag='group')
    query.append(orm.Node, with_group='group', project='*').limit(1)
    found = query.all(flat=True)
    if found:
        return found[0]
    filters = {'attributes.sample_id': sample_id, **CURRENT_VERSIONS}  # not a version replaced by an amendment
    query = orm.QueryBuilder().append(_sample_classes(), filters=filters, project='*').limit(1)
    found = query.all(flat=True)
    return found[0] if found else None


def find_samples(sample_ids: Iterable[str]) -> dict[str, SampleData]:
    """``{sample_id: node}`` for the given ids that are stored: :func:`find_sample` for many ids at once, in
    O(n / 500) queries whatever the size of the database (planning an import looks every id up this way)."""
    return {sample_id: node for sample_id, (node, _) in find_sample_records(sample_ids).items()}


def find_sample_records(sample_ids: Iterable[str]) -> dict[str, tuple[SampleData, dict[str, Any]]]:
    """``{sample_id: (node, attributes)}`` for the given ids that are stored, the attributes read in the same
    queries (reading them from each node would cost a query per node)."""

    wanted = list(dict.fromkeys(sample_ids))
    found: dict[str, tuple[SampleData, dict[str, Any]]] = {}
    for part in chunked(wanted):
        query = orm.QueryBuilder().append(SampleGroup, filters={'label': {'in': part}}, project='label', tag='group')
        query.append(orm.Node, with_group='group', project=['*', 'attributes'])
        for label, node, attributes in query.iterall():
            found.setdefault(label, (node, attributes))
    missing = [sample_id for sample_id in wanted if sample_id not in found]
    for part in chunked(missing):  # nodes that came in through an archive without their registry group
        query = orm.QueryBuilder().append(
            _sample_classes(),
            filters={'attributes.sample_id': {'in': part}, **CURRENT_VERSIONS},
            project=['attributes.sample_id', '*', 'attributes'],
            tag='sample',
        )
        query.order_by({'sample': {'id': 'asc'}})
        for sample_id, node, attributes in query.iterall():
            found.setdefault(sample_id, (node, attributes))
    return found


def duplicate_sample_ids() -> dict[str, list[int]]:
    """``{sample_id: [pks]}`` of sample ids held by more than one node. The registry makes this impossible for
    anything stored by aiida-ssb; a plain ``verdi archive import`` of records that exist here under other UUIDs
    can cause it (``aiida-ssb archive-import`` refuses such archives)."""
    seen: dict[str, list[int]] = {}
    query = orm.QueryBuilder().append(
        _sample_classes(), filters=CURRENT_VERSIONS, project=['attributes.sample_id', 'id']
    )
    for sample_id, pk in query.iterall():
        seen.setdefault(sample_id, []).append(pk)
    return {sample_id: sorted(pks) for sample_id, pks in seen.items() if len(pks) > 1}


def register_samples() -> int:
    """Create the registry group of every sample that has none (after an archive import); returns how many.
    Of several nodes with one sample id (see :func:`duplicate_sample_ids`), only the oldest is registered."""
    registered = set(orm.QueryBuilder().append(SampleGroup, project='label').all(flat=True))
    created = 0
    query = orm.QueryBuilder().append(_sample_classes(), filters=CURRENT_VERSIONS, project='*', tag='sample')
    for (node,) in query.order_by({'sample': {'id': 'asc'}}).iterall():
        sample_id = node.base.attributes.get('sample_id', None)
        if sample_id and sample_id not in registered:
            SampleGroup(label=sample_id, description='sample id registry of aiida-ssb').store().add_nodes(node)
            registered.add(sample_id)
            created += 1
    return created


def all_sample_ids() -> list[str]:
    """Every sample id of a stored node (registered or not). The registry group of a deleted sample
    (``verdi node delete`` leaves it behind, empty) does not count."""
    query = orm.QueryBuilder().append(_sample_classes(), project='attributes.sample_id')
    return sorted(set(query.all(flat=True)))


def load_sample(sample_id: str) -> SampleData:
    """Like :func:`find_sample`, raising :class:`SampleNotFoundError` (with close ids, or saying that the sample
    was deleted) when the id is unknown."""
    node = find_sample(sample_id)
    if node is None:
        if _registry_group(sample_id) is not None:  # its registry group outlives a `verdi node delete`
            raise SampleNotFoundError(
                f'no material or cell with sample id {sample_id!r}: it was deleted (its id stays reserved; '
                'importing it again re-creates it)'
            )
        known = all_sample_ids()
        close = [
            s for s in known if s != sample_id and (sample_id.lower() in s.lower() or s.lower() in sample_id.lower())
        ][:5]
        hint = f'; did you mean {", ".join(close)}?' if close else ''
        raise SampleNotFoundError(f'no material or cell with sample id {sample_id!r}{hint}')
    return node
