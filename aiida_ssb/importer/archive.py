"""Importing an AiiDA archive without duplicating samples or raw files.

AiiDA's own ``verdi archive import`` merges nodes by UUID. Records that exist here under *other* UUIDs (the same
campaign imported from its manifest on two machines, say) would come in a second time: two nodes with one sample
id, the same raw file twice. :func:`import_archive_checked` (``aiida-ssb import-archive FILE``) applies this rule:

* the same node (same UUID) is merged, as AiiDA does;
* a sample id or a raw-file checksum that exists here as a *different* node, or twice in the archive, is a
  conflict: the whole archive is refused, with the list of conflicts, and nothing is imported;
* groups: AiiDA renames an archive group whose label exists here with another UUID (``X (Imported #0)``). A
  renamed sample-id or raw-file registry group is removed (the registry here already holds that id or file);
  a renamed campaign group is merged into the campaign of the same name here (a campaign is its name). Samples
  and raw files that came without a registry group are registered.

``aiida-ssb reindex`` reports duplicates that a plain ``verdi archive import`` made (:func:`consistency_report`).
"""

from __future__ import annotations

import dataclasses
import os

from aiida import orm
from aiida.tools.archive import import_archive
from aiida.tools.archive.abstract import get_format

from aiida_ssb.data.campaign import CAMPAIGN_PREFIX
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.rawfile import RawFileGroup, duplicate_raw_files, find_raw_files, register_raw_files
from aiida_ssb.data.sample import SampleGroup, duplicate_sample_ids, find_samples, register_samples
from aiida_ssb.exceptions import InputError

__all__ = ['ArchiveCheck', 'ArchiveReport', 'check_archive', 'consistency_report', 'import_archive_checked']


@dataclasses.dataclass
class ArchiveCheck:
    """What an archive holds of aiida-ssb's records, and what conflicts with this profile."""

    path: str
    samples: dict[str, str]  # sample id -> uuid
    raw_files: dict[str, str]  # sha256 -> uuid
    groups: dict[str, tuple[str, str]]  # group uuid -> (label, type_string)
    conflicts: list[str]
    merged_samples: int = 0

    def message(self) -> str:
        shown = self.conflicts[:20]
        more = f'\n  ... and {len(self.conflicts) - 20} more' if len(self.conflicts) > 20 else ''
        return (
            f'{os.path.basename(self.path)} holds {len(self.conflicts)} record(s) that exist here as other nodes; '
            'nothing was imported (importing them would duplicate them):\n  ' + '\n  '.join(shown) + more
        )


@dataclasses.dataclass
class ArchiveReport:
    check: ArchiveCheck
    nodes_before: int
    nodes_after: int
    removed_registry_groups: int = 0
    merged_campaigns: list[str] = dataclasses.field(default_factory=list)
    registered: int = 0


def check_archive(path: str | os.PathLike[str]) -> ArchiveCheck:
    """Read an archive's sample ids, raw-file checksums and groups, and find what conflicts with this profile."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f'archive not found: {path}')
    samples: dict[str, str] = {}
    raw_files: dict[str, str] = {}
    conflicts: list[str] = []
    try:
        with get_format().open(path, mode='r') as reader:
            query = reader.querybuilder().append(
                (MaterialData, CellData), project=['attributes.sample_id', 'uuid'], tag='sample'
            )
            for sample_id, uuid in query.iterall():
                if sample_id in samples and samples[sample_id] != uuid:
                    conflicts.append(f'sample id {sample_id!r} is held by two nodes of the archive')
                samples.setdefault(sample_id, uuid)
            query = reader.querybuilder().append(
                orm.SinglefileData, filters={'attributes': {'has_key': 'sha256'}}, project=['attributes.sha256', 'uuid']
            )
            for sha256, uuid in query.iterall():
                if sha256 in raw_files and raw_files[sha256] != uuid:
                    conflicts.append(f'raw file {sha256[:12]}... is held by two nodes of the archive')
                raw_files.setdefault(sha256, uuid)
            query = reader.querybuilder().append(orm.Group, project=['uuid', 'label', 'type_string'])
            groups = {uuid: (label, type_string) for uuid, label, type_string in query.iterall()}
    except InputError:
        raise
    except Exception as exc:  # not an archive, or an unreadable one
        raise InputError(f'{path} is not a readable AiiDA archive: {exc}') from None
    check = ArchiveCheck(path, samples, raw_files, groups, conflicts)
    for sample_id, node in find_samples(samples).items():
        if node.uuid != samples[sample_id]:
            check.conflicts.append(
                f'sample id {sample_id!r}: here node {node.pk} ({node.uuid[:8]}), in the archive {samples[sample_id][:8]}'
            )
        else:
            check.merged_samples += 1
    for sha256, raw in find_raw_files(raw_files).items():
        if raw.uuid != raw_files[sha256]:
            check.conflicts.append(
                f'raw file {raw.filename!r} (SHA-256 {sha256[:12]}...): here node {raw.pk}, '
                f'in the archive {raw_files[sha256][:8]}'
            )
    return check


def import_archive_checked(path: str | os.PathLike[str], *, dry_run: bool = False) -> ArchiveReport:
    """Import an archive unless it conflicts with this profile (see the module docstring for the rule)."""
    check = check_archive(path)
    if check.conflicts:
        raise InputError(check.message())
    before = orm.QueryBuilder().append(orm.Node).count()
    report = ArchiveReport(check, before, before)
    if dry_run:
        return report
    import_archive(os.fspath(path))
    report.nodes_after = orm.QueryBuilder().append(orm.Node).count()
    _tidy_groups(check, report)
    report.registered = register_samples() + register_raw_files()
    return report


def _tidy_groups(check: ArchiveCheck, report: ArchiveReport) -> None:
    """Remove renamed registry groups; merge renamed campaign groups into the campaign of the same name."""
    for uuid, (label, type_string) in check.groups.items():
        query = orm.QueryBuilder().append(orm.Group, filters={'uuid': uuid}, project='*')
        found = query.all(flat=True)
        if not found or found[0].label == label:
            continue
        group = found[0]
        if type_string in (SampleGroup._type_string, RawFileGroup._type_string):
            orm.Group.collection.delete(group.pk)
            report.removed_registry_groups += 1
        elif type_string == 'core' and label.startswith(CAMPAIGN_PREFIX):
            query = orm.QueryBuilder().append(orm.Group, filters={'label': label, 'type_string': 'core'}, project='*')
            target = query.all(flat=True)
            if target:
                target[0].add_nodes(list(group.nodes))
                orm.Group.collection.delete(group.pk)
                report.merged_campaigns.append(label[len(CAMPAIGN_PREFIX) :])


def consistency_report() -> dict[str, dict[str, list[int]]]:
    """Sample ids and raw files stored more than once (``{'sample_ids': {id: pks}, 'raw_files': {sha: pks}}``)."""
    return {'sample_ids': duplicate_sample_ids(), 'raw_files': duplicate_raw_files()}
