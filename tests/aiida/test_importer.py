"""The manifest importer: every problem reported with its place, nothing stored half-way, idempotent."""

import pathlib
import textwrap

import pytest
from aiida import orm

from aiida_ssb.importer.manifest import ManifestError, import_manifest, plan_import

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / 'examples' / 'manifests' / 'seed000_nvopf_4v.yaml'

BASE = """\
campaign: test-campaign
materials:
  - {id: NCB-01, name: NaCB11H12, role: precursor, supplier: KatChem}
  - {id: B12-01, name: Na2B12H12, role: precursor}
  - {id: NA-01, role: metal_foil}
processes:
  - type: ball_milling
    inputs: {NCB-01: {amount: 2 mol}, B12-01: {amount: 1 mol}}
    output: {id: SE-01, role: electrolyte}
    parameters: {mill: Spex 8000M, duration: 45 min, ball_to_powder_ratio: 30}
cells:
  - id: SYM-01
    format: symmetric
    diameter: 12 mm
    layers:
      - {role: negative, material: NA-01}
      - {role: electrolyte, material: SE-01, mass: 80 mg, thickness: 500 um}
      - {role: negative, material: NA-01}
    fabrication_pressure: 250 MPa
"""


def write(tmp_path, text, name='manifest.yaml'):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def node_count():
    return orm.QueryBuilder().append(orm.Node).count()


def problems_of(path):
    with pytest.raises(ManifestError) as info:
        import_manifest(path)
    return info.value.problems


@pytest.mark.heavy
def test_example_manifest_records_the_seed_000_chain(aiida_profile_clean):
    report = import_manifest(EXAMPLE)
    assert report.plan.counts()['processes']['new'] == 12
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.query.history import history, render_history

    cell = load_sample('FC-01')
    text = '\n'.join(render_history(history(cell)))
    for expected in (
        'NCB-KC-01',
        'B12-KC-01',
        'ball_milling',
        'solution_impregnation',
        'mixing',
        'V2O5-SA-01',
        'cell_assembly',
        'temperature 250 °C',
    ):
        assert expected in text
    assert cell.base.attributes.get('mass_loading_mg_cm2') == pytest.approx(1.238, abs=5e-4)
    group = orm.Group.collection.get(label='ssb/campaign/seed000-nvopf-4v')
    assert len(group.nodes) == 11 + 12 * 2 + 3 * 2


def test_import_twice_changes_nothing_and_extension_adds_only_new(aiida_profile_clean, tmp_path):
    path = write(tmp_path, BASE)
    import_manifest(path)
    count = node_count()
    report = import_manifest(path)
    assert report.plan.n_new == 0 and node_count() == count
    extended = write(
        tmp_path,
        BASE
        + (
            '  - id: SYM-02\n'
            '    format: symmetric\n'
            '    diameter: 12 mm\n'
            '    layers:\n'
            '      - {role: negative, material: NA-01}\n'
            '      - {role: electrolyte, material: SE-01, mass: 85 mg}\n'
            '      - {role: negative, material: NA-01}\n'
        ),
        'extended.yaml',
    )
    report = import_manifest(extended)
    assert report.plan.counts()['cells'] == {'new': 1, 'unchanged': 1}
    assert report.plan.counts()['processes'] == {'new': 0, 'unchanged': 1}
    assert node_count() == count + 3  # the cell, its assembly process and its parameters


def test_changed_entry_is_refused_not_overwritten(aiida_profile_clean, tmp_path):
    import_manifest(write(tmp_path, BASE))
    count = node_count()
    changed = write(tmp_path, BASE.replace('mass: 80 mg', 'mass: 81 mg'), 'changed.yaml')
    problems = problems_of(changed)
    assert any('SYM-01' in p.message and 'mass_mg' in p.message for p in problems)
    assert node_count() == count


@pytest.mark.parametrize(
    'mutation, line, fragment',
    [
        (('material: SE-01, mass: 80 mg', 'material: SE-99, mass: 80 mg'), 17, "unknown material 'SE-99'"),
        (
            ('fabrication_pressure: 250 MPa', 'fabrication_pressure: 250 mg'),
            19,
            'not convertible to MPa (expected a pressure)',
        ),
        (('mass: 80 mg', 'mass: -80 mg'), 17, 'greater than 0'),
        (
            ('{id: B12-01, name: Na2B12H12, role: precursor}', '{id: NCB-01, name: Na2B12H12, role: precursor}'),
            4,
            "duplicate id 'NCB-01'",
        ),
        (('duration: 45 min', 'duration: 45'), 10, 'needs a unit'),
        (('role: electrolyte}', 'role: electrolite}'), 9, "got 'electrolite'"),
    ],
)
def test_bad_manifest_reports_the_place_and_stores_nothing(aiida_profile_clean, tmp_path, mutation, line, fragment):
    path = write(tmp_path, BASE.replace(*mutation))
    count = node_count()
    problems = problems_of(path)
    assert node_count() == count
    matching = [p for p in problems if fragment in p.message]
    assert matching, [str(p) for p in problems]
    assert matching[0].where.startswith(f'{path}:{line}:'), str(matching[0])


def test_fractions_not_summing_to_100_percent(aiida_profile_clean, tmp_path):
    text = BASE.replace(
        'inputs: {NCB-01: {amount: 2 mol}, B12-01: {amount: 1 mol}}',
        'inputs: {NCB-01: {fraction: 60 wt%}, B12-01: {fraction: 30 wt%}}',
    )
    problems = problems_of(write(tmp_path, text))
    assert any('add up to 90 wt%' in p.message for p in problems)
    assert problems[0].where.endswith(':8:5')


def test_missing_measurement_file_and_every_problem_at_once(aiida_profile_clean, tmp_path):
    text = BASE.replace('mass: 80 mg', 'mass: 80 degC') + textwrap.dedent("""\
    measurements:
      - {cell: SYM-01, technique: impedance, file: raw/nothing.mpt, temperature: 25 degC}
      - {cell: SYM-77, file: raw/other.mpt}
    """)
    problems = problems_of(write(tmp_path, text))
    messages = ' | '.join(p.message for p in problems)
    assert 'file not found' in messages and "unknown cell 'SYM-77'" in messages and 'not convertible to mg' in messages
    assert len(problems) >= 4


def test_yaml_syntax_error_has_a_line(aiida_profile_clean, tmp_path):
    problems = problems_of(
        write(tmp_path, BASE.replace('{id: NA-01, role: metal_foil}', '{id: NA-01, role: metal_foil'))
    )
    assert len(problems) == 1 and 'YAML syntax error' in problems[0].message
    assert ':6:' in problems[0].where or ':5:' in problems[0].where


def test_unknown_keys_list_the_known_ones(aiida_profile_clean, tmp_path):
    problems = problems_of(write(tmp_path, BASE.replace('supplier: KatChem', 'suplier: KatChem')))
    assert 'suplier' in str(problems[0]) and 'supplier' in problems[0].message


def test_failure_during_storage_rolls_everything_back(aiida_profile_clean, tmp_path, monkeypatch):
    path = write(tmp_path, BASE)
    plan = plan_import(path)
    count = node_count()
    from aiida_ssb.calculations import record

    def broken(*args, **kwargs):
        raise RuntimeError('disk full')

    monkeypatch.setattr(record, 'assemble_cell', broken)
    from aiida_ssb.importer.manifest import run_import

    with pytest.raises(RuntimeError, match='disk full'):
        run_import(plan)
    assert node_count() == count
    assert not orm.QueryBuilder().append(orm.Group, filters={'label': 'ssb/campaign/test-campaign'}).count()
    monkeypatch.undo()
    import_manifest(path)  # and it still imports cleanly afterwards
    assert orm.QueryBuilder().append(orm.Group, filters={'label': 'ssb/campaign/test-campaign'}).count() == 1
