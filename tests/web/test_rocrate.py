"""The RO-Crate (.eln) export read back with the ``rocrate`` package, and the BattINFO JSON-LD."""

from __future__ import annotations

import hashlib
import json
import pathlib
import zipfile

import pytest
from aiida import orm

from tests.web.conftest import PELLET

pytestmark = pytest.mark.slow  # one small lab built per module (import and one analysis)

CAMPAIGN = 'seed004-milling-series'


@pytest.fixture(scope='module')
def crate(lab, tmp_path_factory):
    from aiida_ssb.plotting.plotdata import png_of_plot_data
    from aiida_ssb.query.rocrate import export_rocrate

    folder = tmp_path_factory.mktemp('crate')
    path = export_rocrate(folder / 'milling.eln', campaign=CAMPAIGN, draw=png_of_plot_data)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        archive.extractall(folder / 'unpacked')
    return pathlib.Path(path), names, folder / 'unpacked' / 'milling'


def _terms(value):
    """Every property name used in a JSON-LD node (recursively)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not key.startswith('@'):
                yield key
            yield from _terms(item)
    elif isinstance(value, list):
        for item in value:
            yield from _terms(item)


def test_eln_layout(crate):
    path, names, root = crate
    assert path.suffix == '.eln'
    assert {name.split('/')[0] for name in names} == {'milling'}  # one folder at the root, named as the file
    assert 'milling/ro-crate-metadata.json' in names
    metadata = json.loads((root / 'ro-crate-metadata.json').read_text())
    assert metadata['@context'] == 'https://w3id.org/ro/crate/1.1/context'
    descriptor = next(e for e in metadata['@graph'] if e['@id'] == 'ro-crate-metadata.json')
    assert descriptor['conformsTo'] == {'@id': 'https://w3id.org/ro/crate/1.1'} and descriptor['about'] == {'@id': './'}


def test_valid_ro_crate_1_1(crate):
    rocrate = pytest.importorskip('rocrate.rocrate')
    import rocrate as package

    _, _, root = crate
    loaded = rocrate.ROCrate(str(root))
    dataset = loaded.root_dataset
    for key in ('name', 'description', 'datePublished', 'license'):  # required on the root data entity
        assert dataset.get(key), key
    context = json.loads((pathlib.Path(package.__file__).parent / 'data' / 'ro-crate.jsonld').read_text())['@context']
    metadata = json.loads((root / 'ro-crate-metadata.json').read_text())
    unknown = {term for term in _terms(metadata['@graph']) if term not in context}
    assert not unknown, f'properties outside the RO-Crate 1.1 context: {unknown}'
    types = {t for e in metadata['@graph'] for t in ([e['@type']] if isinstance(e['@type'], str) else e['@type'])}
    assert types <= set(context), types - set(context)
    ids = {e['@id'] for e in metadata['@graph']}
    for entity in metadata['@graph']:  # every reference resolves inside the crate (or is an absolute URL)
        for value in entity.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and '@id' in item:
                    assert item['@id'] in ids or item['@id'].startswith('http'), (entity['@id'], item)
    reached = set()
    stack = ['./']
    while stack:  # every file is reachable from the root through hasPart, and exists with its checksum
        wanted = stack.pop()
        current = next(e for e in metadata['@graph'] if e['@id'] == wanted)
        for part in current.get('hasPart', []):
            reached.add(part['@id'])
            stack.append(part['@id'])
    files = [e for e in metadata['@graph'] if e['@type'] == 'File']
    for entity in files:
        assert entity['@id'] in reached
        content = (root / entity['@id'].replace('%20', ' ')).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entity['sha256'] and int(entity['contentSize']) == len(content)


def test_round_trip_finds_every_raw_file_and_lab_step(crate):
    rocrate = pytest.importorskip('rocrate.rocrate')
    from aiida_ssb.data.cell import CellData
    from aiida_ssb.query.rocrate import collect

    _, _, root = crate
    loaded = rocrate.ROCrate(str(root))
    entities = {e.id: e for e in loaded.get_entities()}
    from aiida_ssb.data.campaign import campaign_group

    query = orm.QueryBuilder().append(orm.Group, filters={'id': campaign_group(CAMPAIGN).pk}, tag='g')
    query.append(CellData, with_group='g', project='*')
    cells = query.all(flat=True)
    raws = [p.inputs.raw for p in collect(cells)['processes'] if 'raw' in p.inputs]
    assert raws
    by_identifier = {e.get('identifier'): e for e in entities.values() if e.type == 'File'}
    for raw in raws:  # every raw file, verbatim
        entity = by_identifier[raw.uuid]
        with raw.open(mode='rb') as handle:
            assert (root / entity.id).read_bytes() == handle.read()
    actions = [e for e in entities.values() if e.type == 'CreateAction']
    steps = [p for p in collect(cells)['processes'] if 'ssb.record.' in (p.process_type or '')]
    assert steps
    by_uuid = {a['identifier']: a for a in actions}
    for step in steps:  # every lab step with its input samples, parameters and output samples
        action = by_uuid[step.uuid]
        objects = {o.id for o in action['object']}
        results = {r.id for r in action['result']}
        for link in step.base.links.get_incoming().all():
            if hasattr(link.node, 'sample_id') and link.node.sample_id:
                assert f'#sample-{link.node.sample_id}' in objects
        for link in step.base.links.get_outgoing().all():
            assert f'#sample-{link.node.sample_id}' in results
        parameters = {entities[o]['name']: entities[o]['value'] for o in objects if entities[o].type == 'PropertyValue'}
        for key, value in step.inputs.parameters.get_dict().items():
            if key != 'inputs' and not isinstance(value, (dict, list)):
                assert parameters[key] == value
    milling = [a for a in actions if a['name'].startswith('ball_milling')]
    assert milling and all(i.type == 'IndividualProduct' for a in milling for i in a['instrument'])
    analyses = [a for a in actions if a['additionalType'] == 'analysis']
    assert analyses and all(a['result'] for a in analyses)  # each analysis has its result files
    assert any(i.id == '#aiida-ssb' for a in analyses for i in a['instrument'])
    folder = root / PELLET
    assert (folder / 'battinfo.jsonld').is_file() and (folder / 'figures' / 'nyquist.png').is_file()


def test_battinfo_of_a_cell(lab, tmp_path):
    from aiida_ssb.query.battinfo import BATTINFO_CONTEXT, cell_battinfo, write_battinfo

    document = cell_battinfo(PELLET)
    assert document['@context'] is BATTINFO_CONTEXT
    assert 'BatteryCell' in document['@type'] and 'ConductivityCell' in document['@type']
    electrolyte = document['hasElectrolyte'][0]
    assert 'ssb:SolidElectrolyteLayer' in electrolyte['@type'] and 'SolidElectrolyte' in electrolyte['@type']
    thickness = next(p for p in electrolyte['hasProperty'] if p['@type'] == 'Thickness')
    assert (
        thickness['hasMeasurementUnit'].endswith('MicroMetre')
        and thickness['hasNumericalPart']['hasNumericalValue'] > 0
    )
    pressures = [p for p in document.get('hasProperty', []) if 'ssb:FabricationPressure' in p['@type']]
    assert pressures and all(p['ssb:unitText'] == 'MPa' for p in pressures)
    eis = next(t for t in document['ssb:hasTest'] if 'ElectrochemicalImpedanceSpectroscopy' in t['@type'])
    assert eis['hasTestObject'] == document['@id'] and len(eis['ssb:records']) == 4
    used = {t for t in _terms(document) if ':' not in t}
    assert used <= set(BATTINFO_CONTEXT), used - set(BATTINFO_CONTEXT)  # every term has an IRI
    path, count = write_battinfo(tmp_path / 'cells.jsonld', campaign=CAMPAIGN)
    written = json.loads(pathlib.Path(path).read_text())
    assert count == len(written['@graph']) > 1
    pyld = pytest.importorskip('pyld')
    expanded = pyld.jsonld.expand(document)
    assert expanded and any('battery#battery_68ed592a' in t for t in expanded[0]['@type'])
