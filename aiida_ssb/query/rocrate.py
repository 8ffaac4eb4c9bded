"""A campaign or a selection of samples as an RO-Crate (RO-Crate 1.1), zipped as an ``.eln`` file.

The crate follows the ELN consortium's ``.eln`` file format: a ZIP archive with exactly one folder at its root,
named as the archive, holding ``ro-crate-metadata.json``; one sub-folder (a ``Dataset``) per sample holds that
sample's raw instrument files (verbatim, with their SHA-256), its analysis results (JSON summaries and the
curves as ``.npz``), its figures (PNG) and, for a cell, its BattINFO JSON-LD; ``tables/`` holds the cells,
samples, analyses and measurement tables (CSV, as :func:`~aiida_ssb.query.export.export_tables` writes them).

The provenance is in the metadata as RO-Crate entities: every lab step, every parsing of a raw file and every
analysis is a ``CreateAction`` with its ``instrument`` (the mill, press or potentiostat named in its parameters
or conditions, an ``IndividualProduct``; aiida-ssb itself, a ``SoftwareApplication`` with its version), its
``object`` (the input samples and files, and one ``PropertyValue`` per parameter) and its ``result`` (the
samples and files it made), with its AiiDA uuid as ``identifier``. The root dataset ``mentions`` every action.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mimetypes
import os
import pathlib
import shutil
import tempfile
import urllib.parse
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

import aiida
from aiida import orm
from aiida.common.links import LinkType

from aiida_ssb import __version__
from aiida_ssb.data.campaign import campaign_group
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.measurements import MeasurementData
from aiida_ssb.data.nodes import pk_of
from aiida_ssb.data.sample import load_sample
from aiida_ssb.exceptions import InputError
from aiida_ssb.query.battinfo import cell_battinfo
from aiida_ssb.query.export import export_tables, tables_safe
from aiida_ssb.query.history import process_kind, process_summary
from aiida_ssb.query.plotdata import PLOT_KINDS, available_plots, plot_data
from aiida_ssb.query.records import measurement_label
from aiida_ssb.schemas.base import unit_of_field

__all__ = ['ELN_MEDIA_TYPE', 'collect', 'export_rocrate']

ELN_MEDIA_TYPE = 'application/vnd.eln+zip'
RO_CRATE_11 = 'https://w3id.org/ro/crate/1.1'
DEFAULT_LICENSE = 'https://creativecommons.org/licenses/by/4.0/'

#: parameter keys naming the equipment of a lab step or measurement
_INSTRUMENT_KEYS = (
    'mill',
    'press',
    'furnace',
    'mixer',
    'instrument',
    'device',
    'potentiostat',
    'cycler',
    'diffractometer',
)


def _safe(text: str) -> str:
    return ''.join(c if c.isalnum() or c in '-_.' else '_' for c in text)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec='seconds')


def _samples(sample_ids: list[str] | None, campaign: str | None) -> list[orm.Node]:
    if (sample_ids is None) == (campaign is None):
        raise InputError('give sample ids or a campaign to export')
    if campaign is not None:
        query = orm.QueryBuilder().append(orm.Group, filters={'id': campaign_group(campaign).pk}, tag='g')
        query.append((CellData, MaterialData), with_group='g', project='*')
        nodes = query.all(flat=True)
        if not nodes:
            raise InputError(f'no campaign {campaign!r}, or it holds no samples')
        return sorted(nodes, key=lambda n: n.pk)
    return [load_sample(sample_id) for sample_id in sample_ids or ()]


def collect(samples: Iterable[orm.Node]) -> dict[str, Any]:
    """The provenance around the samples: every upstream sample and lab step (their whole history), every parse
    process of their raw files with its measurements, every analysis downstream of those, with its outputs."""
    samples = list(samples)
    materials: dict[int, orm.Node] = {}
    processes: dict[int, orm.ProcessNode] = {}
    stack = list(samples)
    while stack:  # upstream: creators that are lab steps, and their input samples
        node = stack.pop()
        if node.pk in materials:
            continue
        materials[pk_of(node)] = node
        creator = node.creator
        if creator is not None and 'ssb.record.' in (creator.process_type or ''):
            processes[creator.pk] = creator
            for link in creator.base.links.get_incoming(link_type=LinkType.INPUT_CALC).all():
                if hasattr(link.node, 'sample_id'):
                    stack.append(link.node)
    frontier = list(samples)  # downstream: parse processes, then analyses of what they made
    seen: set[int] = {pk_of(node) for node in frontier}
    while frontier:
        node = frontier.pop()
        for link in node.base.links.get_outgoing(link_type=LinkType.INPUT_CALC).all():
            process = link.node
            if not isinstance(process, orm.ProcessNode):  # an input link always ends at a process
                continue
            process_type = process.process_type or ''
            if not any(marker in process_type for marker in ('ssb.parse.', 'ssb.analyse.', 'ssb.summarise')):
                continue
            if process.pk not in processes:
                processes[pk_of(process)] = process
                for output in process.base.links.get_outgoing(link_type=LinkType.CREATE).all():
                    if output.node.pk not in seen:
                        seen.add(pk_of(output.node))
                        frontier.append(output.node)
    return {
        'samples': samples,
        'materials': list(materials.values()),
        'processes': sorted(processes.values(), key=lambda p: p.ctime),
    }


class _Crate:
    """The entities of the metadata file and the files beside it."""

    def __init__(self, root: pathlib.Path):
        self.root = root
        self.entities: dict[str, dict[str, Any]] = {}
        self.files_of: dict[str, list[str]] = {}  # dataset id -> file ids

    def add(self, entity: dict[str, Any]) -> dict[str, Any]:
        existing = self.entities.get(entity['@id'])
        if existing is None:
            self.entities[entity['@id']] = entity
            return entity
        return existing

    def file(self, folder: str, name: str, content: bytes, **properties: Any) -> str:
        """Write a file into a dataset folder and describe it; returns its id."""
        relative = f'{folder}/{name}' if folder else name
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        identifier = urllib.parse.quote(relative)
        entity = {
            '@id': identifier,
            '@type': 'File',
            'name': name,
            'contentSize': str(len(content)),
            'sha256': hashlib.sha256(content).hexdigest(),
            'encodingFormat': properties.pop('encodingFormat', None)
            or mimetypes.guess_type(name)[0]
            or 'application/octet-stream',
        }
        entity.update({k: v for k, v in properties.items() if v is not None})
        self.add(entity)
        dataset = urllib.parse.quote(folder.split('/', maxsplit=1)[0]) + '/' if folder else './'
        self.files_of.setdefault(dataset, []).append(identifier)
        return identifier


def _ref(identifier: str) -> dict[str, str]:
    return {'@id': identifier}


def _sample_ref(sample_id: str) -> str:
    return '#sample-' + urllib.parse.quote(sample_id, safe='')


def _parameter_entities(crate: _Crate, process: orm.ProcessNode, parameters: dict[str, Any], prefix: str) -> list[str]:
    ids = []
    for key, value in sorted(parameters.items()):
        if value is None or key in ('inputs', 'link_label'):
            continue
        identifier = f'#param-{process.uuid}-{prefix}{key}'
        entity: dict[str, Any] = {'@id': identifier, '@type': 'PropertyValue', 'name': f'{prefix}{key}'}
        if isinstance(value, (dict, list)):
            entity['value'] = json.dumps(value, sort_keys=True)
        else:
            entity['value'] = value
        try:
            unit = unit_of_field(key)
        except Exception:  # a key the unit table does not know: no unit
            unit = None
        if unit:
            entity['unitText'] = str(unit)
        crate.add(entity)
        ids.append(identifier)
    return ids


def _instrument(crate: _Crate, values: dict[str, Any]) -> list[str]:
    ids = []
    for key in _INSTRUMENT_KEYS:
        name = values.get(key)
        if isinstance(name, str) and name:
            identifier = '#instrument-' + urllib.parse.quote(_safe(name))
            crate.add(
                {
                    '@id': identifier,
                    '@type': 'IndividualProduct',
                    'name': name,
                    'description': f'{key} named in the lab record',
                }
            )
            ids.append(identifier)
    return ids


def export_rocrate(
    path: str | os.PathLike[str],
    *,
    sample_ids: list[str] | None = None,
    campaign: str | None = None,
    draw: Callable[[Any], bytes] | None = None,
    license_url: str = DEFAULT_LICENSE,
) -> str:
    """Write the samples (and their history, raw files, tables, results, BattINFO) as a zipped RO-Crate (``.eln``,
    or ``.zip``) at ``path``; returns the path. ``draw`` turns a :class:`~aiida_ssb.query.plotdata.PlotData` into
    PNG bytes (:func:`aiida_ssb.plotting.plotdata.png_of_plot_data`); with it, every cell's figures are included."""

    path = pathlib.Path(path)
    if path.suffix.lower() not in ('.eln', '.zip'):
        raise InputError(f'{path}: an RO-Crate is written as a .eln (or .zip) file')
    samples = _samples(sample_ids, campaign)
    found = collect(samples)
    name = _safe(path.stem) or 'crate'
    workdir = pathlib.Path(tempfile.mkdtemp(prefix='ssb-crate-'))
    try:
        crate = _Crate(workdir / name)
        crate.root.mkdir(parents=True)
        software = '#aiida-ssb'
        crate.add(
            {
                '@id': software,
                '@type': 'SoftwareApplication',
                'name': 'aiida-ssb',
                'version': __version__,
                'url': 'https://github.com/aiida-ssb/aiida-ssb',
                'description': f'AiiDA plugin for solid-state battery labs (aiida-core {aiida.__version__})',
            }
        )
        cells = [n for n in found['materials'] if n.__class__.__name__ == 'CellData']
        _sample_entities(crate, found['materials'], cells)
        measurement_files = _tables(crate, workdir, samples)
        folder_of = {node.sample_id: _safe(node.sample_id) for node in found['materials']}
        output_files = _process_files(crate, found['processes'], folder_of, measurement_files)
        # ---------------------------------------------------------------- figures and BattINFO
        if draw is not None:
            for cell in cells:
                _figures(crate, cell.sample_id, folder_of[cell.sample_id], draw)
        for cell in cells:
            document = cell_battinfo(cell.sample_id, base='urn:aiida-ssb:sample:')
            crate.file(
                folder_of[cell.sample_id],
                'battinfo.jsonld',
                json.dumps(document, indent=1, ensure_ascii=False).encode(),
                encodingFormat='application/ld+json',
                description='BattINFO JSON-LD of the cell and its tests (with the aiida-ssb extension terms)',
                about=[_ref(_sample_ref(cell.sample_id))],
            )
        # ---------------------------------------------------------------- actions
        actions = []
        for process in found['processes']:
            actions.append(_action(crate, process, output_files, software))
        datasets = _datasets(crate, folder_of)
        metadata = _metadata(crate, samples, datasets, actions, campaign, license_url)
        (crate.root / 'ro-crate-metadata.json').write_text(
            json.dumps(metadata, indent=1, ensure_ascii=False, default=str), encoding='utf-8'
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + '.part')
        with zipfile.ZipFile(tmp, 'w', compression=zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(crate.root.rglob('*')):
                if file.is_file():
                    archive.write(file, arcname=str(file.relative_to(workdir)))
        os.replace(tmp, path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return str(path)


def _sample_entities(crate: _Crate, materials: list[Any], cells: list[Any]) -> None:
    """The samples as contextual entities."""
    for node in materials:
        attributes = node.base.attributes.all
        entity = {
            '@id': _sample_ref(node.sample_id),
            '@type': 'Thing',
            'name': node.sample_id,
            'identifier': node.uuid,
            'additionalType': 'cell' if node in cells else f'material ({attributes.get("role", "?")})',
            'description': attributes.get('name') or node.description or node.sample_id,
        }
        crate.add(entity)


def _tables(crate: _Crate, workdir: pathlib.Path, samples: list[orm.Node]) -> dict[str, str]:
    """The CSV tables of the samples (:func:`~aiida_ssb.query.export.export_tables`); returns their file ids by
    path relative to the tables folder."""

    tables_dir = workdir / 'tables-tmp'
    written = export_tables(str(tables_dir), sample_ids=[n.sample_id for n in samples])
    measurement_files: dict[str, str] = {}
    for table_path in written:
        relative = os.path.relpath(table_path, tables_dir)
        content = pathlib.Path(table_path).read_bytes()
        identifier = crate.file(
            'tables/' + os.path.dirname(relative) if os.path.dirname(relative) else 'tables',
            os.path.basename(relative),
            content,
            encodingFormat='text/csv',
            description=f'table {relative}',
        )
        measurement_files[relative] = identifier
    return measurement_files


def _process_files(
    crate: _Crate, processes: list[orm.ProcessNode], folder_of: dict[str, str], measurement_files: dict[str, str]
) -> dict[int, str]:
    """The raw files, records and results of the processes, in their samples' folders; returns the file id that
    carries each node (by pk)."""

    output_files: dict[int, str] = {}  # node pk -> file id that carries it
    for process in processes:
        process_type = process.process_type or ''
        sample = (
            process.inputs.sample
            if 'sample' in process.inputs
            else process.inputs.cell
            if 'cell' in process.inputs
            else None
        )
        sample_id = sample.base.attributes.get('sample_id', None) if sample is not None else None
        if sample_id is None:
            for summary in process.base.links.get_outgoing(link_type=LinkType.CREATE).all():
                sample_id = (
                    summary.node.base.attributes.get('sample_id', None) if isinstance(summary.node, orm.Dict) else None
                )
                if sample_id:
                    break
        folder = folder_of.get(sample_id or '', '_other')
        if 'ssb.parse.' in process_type and 'raw' in process.inputs:
            raw = process.inputs.raw
            if raw.pk not in output_files:
                with raw.open(mode='rb') as handle:
                    content = handle.read()
                output_files[raw.pk] = crate.file(
                    f'{folder}/raw',
                    raw.filename,
                    content,
                    description=f'raw instrument file of {sample_id}, stored verbatim',
                    about=[_ref(_sample_ref(sample_id))] if sample_id else None,
                    identifier=raw.uuid,
                )
            for output in process.base.links.get_outgoing(link_type=LinkType.CREATE).all():
                record = output.node
                if not isinstance(record, MeasurementData):  # a parse process creates measurement records only
                    continue
                csv_name = f'measurements/{tables_safe(sample_id or "")}__{measurement_label(record)}.csv'
                if csv_name in measurement_files:
                    output_files[pk_of(record)] = measurement_files[csv_name]
                else:  # a material's record: its table is written here
                    buffer = record.to_dataframe().to_csv(index=False).encode()
                    output_files[pk_of(record)] = crate.file(
                        f'{folder}/records',
                        f'{measurement_label(record)}.csv',
                        buffer,
                        encodingFormat='text/csv',
                        identifier=record.uuid,
                    )
        elif 'ssb.analyse.' in process_type or 'ssb.summarise' in process_type:
            for output in process.base.links.get_outgoing(link_type=LinkType.CREATE).all():
                node = output.node
                kind = process_type.rsplit('.', 1)[-1]
                if isinstance(node, orm.Dict):
                    content = json.dumps(node.get_dict(), indent=1, sort_keys=True, default=str).encode()
                    output_files[pk_of(node)] = crate.file(
                        f'{folder}/results',
                        f'{kind}-{node.uuid[:8]}.json',
                        content,
                        encodingFormat='application/json',
                        identifier=node.uuid,
                        description=f'{kind} result summary',
                    )
                elif 'arrays.npz' in node.base.repository.list_object_names():
                    content = node.base.repository.get_object_content('arrays.npz', mode='rb')
                    output_files[pk_of(node)] = crate.file(
                        f'{folder}/results',
                        f'{kind}-{node.uuid[:8]}-curves.npz',
                        content,
                        identifier=node.uuid,
                        description=f'{kind} curves (numpy .npz)',
                    )
    return output_files


def _datasets(crate: _Crate, folder_of: dict[str, str]) -> list[str]:
    """One dataset per folder (a sample's folder is about the sample); returns their ids."""
    datasets = []
    for dataset, files in sorted(crate.files_of.items()):
        if dataset == './':
            continue
        folder = urllib.parse.unquote(dataset.rstrip('/'))
        is_sample = folder in folder_of.values()
        sample_id = next((s for s, f in folder_of.items() if f == folder), None)
        crate.add(
            {
                '@id': dataset,
                '@type': 'Dataset',
                'name': sample_id or folder,
                'description': f'records, raw files, results and figures of {sample_id}' if is_sample else f'{folder}',
                'hasPart': [_ref(f) for f in files],
                'about': [_ref(_sample_ref(sample_id))] if sample_id else None,
            }
        )
        if crate.entities[dataset]['about'] is None:
            crate.entities[dataset].pop('about')
        datasets.append(dataset)
    return datasets


def _metadata(
    crate: _Crate,
    samples: list[orm.Node],
    datasets: list[str],
    actions: list[str],
    campaign: str | None,
    license_url: str,
) -> dict[str, Any]:
    """The ``ro-crate-metadata.json`` document: the root dataset, the descriptor and every entity."""
    now = dt.datetime.now(dt.timezone.utc)
    title = (
        f'aiida-ssb campaign {campaign}'
        if campaign
        else f'aiida-ssb samples {", ".join(n.sample_id for n in samples[:5])}' + (' ...' if len(samples) > 5 else '')
    )
    crate.add({'@id': license_url, '@type': 'CreativeWork', 'name': 'license', 'url': license_url})
    crate.add(
        {
            '@id': '#publisher',
            '@type': 'Organization',
            'name': 'aiida-ssb',
            'url': 'https://github.com/aiida-ssb/aiida-ssb',
        }
    )
    root = {
        '@id': './',
        '@type': 'Dataset',
        'name': title,
        'description': (
            f'{len(samples)} sample(s) with their synthesis history, raw instrument files, tables, analysis results, '
            'figures and BattINFO JSON-LD, exported from an AiiDA provenance graph by aiida-ssb. Every lab step, '
            'parsing and analysis is a CreateAction.'
        ),
        'datePublished': _iso(now),
        'dateCreated': _iso(now),
        'license': _ref(license_url),
        'publisher': _ref('#publisher'),
        'hasPart': [_ref(d) for d in datasets] + [_ref(f) for f in crate.files_of.get('./', [])],
        'mentions': [_ref(a) for a in actions],
        'about': [_ref(_sample_ref(n.sample_id)) for n in samples],
    }
    if campaign:
        root['keywords'] = [campaign]
    descriptor = {
        '@id': 'ro-crate-metadata.json',
        '@type': 'CreativeWork',
        'about': _ref('./'),
        'conformsTo': _ref(RO_CRATE_11),
        'dateCreated': _iso(now),
        'sdPublisher': _ref('#publisher'),
        'version': '1.0',
    }
    graph = [descriptor, root] + [e for k, e in crate.entities.items() if k not in ('./', 'ro-crate-metadata.json')]
    metadata = {'@context': f'{RO_CRATE_11}/context', '@graph': graph}
    return metadata


def _figures(crate: _Crate, sample_id: str, folder: str, draw: Callable[[Any], bytes]) -> None:
    for kind in available_plots(sample_id):
        try:
            png = draw(plot_data(sample_id, kind, 0))
        except Exception:  # a figure that cannot be drawn leaves the crate without it, never without the data
            continue
        crate.file(
            f'{folder}/figures',
            f'{kind}.png',
            png,
            encodingFormat='image/png',
            description=f'{PLOT_KINDS[kind]} of {sample_id}',
            about=[_ref(_sample_ref(sample_id))],
        )


def _action(crate: _Crate, process: orm.ProcessNode, output_files: dict[int, str], software: str) -> str:
    """The CreateAction of a lab step, a parsing or an analysis."""

    process_type = process.process_type or ''
    kind = process_kind(process)
    identifier = f'#action-{process.uuid}'
    objects: list[str] = []
    instruments: list[str] = []
    if 'ssb.record.' in process_type:
        category = 'lab step'
    elif 'ssb.parse.' in process_type:
        category = 'measurement parsing'
    else:
        category = 'analysis'
    for link in process.base.links.get_incoming(link_type=LinkType.INPUT_CALC).all():
        node = link.node
        if hasattr(node, 'sample_id') and node.sample_id:
            objects.append(_sample_ref(node.sample_id))
        elif node.pk in output_files:
            objects.append(output_files[node.pk])
        elif isinstance(node, orm.Dict) and link.link_label in ('parameters', 'conditions', 'options', 'product'):
            values = node.get_dict()
            if link.link_label != 'product':
                objects.extend(
                    _parameter_entities(
                        crate, process, values, '' if link.link_label == 'parameters' else f'{link.link_label}.'
                    )
                )
                instruments.extend(_instrument(crate, values))
    results = []
    for link in process.base.links.get_outgoing(link_type=LinkType.CREATE).all():
        node = link.node
        if hasattr(node, 'sample_id') and node.sample_id and node.__class__.__name__ in ('MaterialData', 'CellData'):
            results.append(_sample_ref(node.sample_id))
        elif node.pk in output_files:
            results.append(output_files[node.pk])
    if category != 'lab step':
        instruments.append(software)
    name = process_summary(process) if category == 'lab step' else f'{kind} ({category})'
    action = {
        '@id': identifier,
        '@type': 'CreateAction',
        'name': name,
        'additionalType': category,
        'identifier': process.uuid,
        'startTime': _iso(process.ctime),
        'endTime': _iso(process.mtime),
        'actionStatus': _ref(
            'http://schema.org/CompletedActionStatus'
            if process.is_finished_ok
            else 'http://schema.org/FailedActionStatus'
        ),
        'instrument': [_ref(i) for i in dict.fromkeys(instruments)],
        'object': [_ref(o) for o in dict.fromkeys(objects)],
        'result': [_ref(r) for r in dict.fromkeys(results)],
    }
    if not process.is_finished_ok and process.exit_message:
        action['error'] = process.exit_message
    crate.add(action)
    return identifier
