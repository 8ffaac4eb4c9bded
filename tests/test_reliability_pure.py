"""Reliability probes that need no AiiDA profile (issue 13): identity, bounded YAML and units, finite numbers,
output files that touch nothing else, secrets kept off the command line and out of readable files.

Each test reproduces a probe of the issue (its item number in the test name's docstring)."""

from __future__ import annotations

import itertools
import math
import os
import stat
import string
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiida_ssb.exceptions import InputError
from aiida_ssb.importer.yamlpos import ALIAS_BUDGET, MAX_DEPTH, YamlSyntaxError, load_located, loads_located
from aiida_ssb.labels import MAX_LINK_LABEL, RESERVED_LABELS, link_label, unlink_label
from aiida_ssb.outputs import output_file, output_folder
from aiida_ssb.units import UnitError, to_unit

LABEL = r'[A-Za-z][A-Za-z0-9_]*'


# ------------------------------------------------------------------------------------------------ identity (3, 4, 5)
def _variants(stem: str) -> list[str]:
    """Ids differing only in punctuation and case: LPS-1, LPS_1, LPS.1, LPS+1, LPS/1, lps-1, ..."""
    pieces = stem.split('-')
    variants = {sep.join(pieces) for sep in '-_.+/'} | {sep.join(pieces) + '' for sep in ('', '--')}
    variants |= {variant.lower() for variant in variants} | {variant.upper() for variant in variants}
    return sorted(variants)


@pytest.mark.parametrize('stem', ['LPS-1', 'NCB-01-dry', 'FC-HL-01', 'x-1', '1-A', 'parameters-1'])
def test_link_labels_of_ids_differing_in_punctuation_or_case_are_distinct(stem):
    """Item 4: LPS-1, LPS_1 and LPS.1 used to share the label LPS_1 (one input link, a history lost)."""
    variants = _variants(stem)
    labels = [link_label(variant) for variant in variants]
    assert len(set(labels)) == len(variants)
    for variant, label in zip(variants, labels):
        assert __import__('re').fullmatch(LABEL, label) and '__' not in label and not label.endswith('_')
        assert unlink_label(label) == variant


@pytest.mark.parametrize('name', ['PEIS_C01.mpt', 'PEIS-C01.mpt', 'peis_c01.mpt', 'PEIS C01.mpt', 'PEIS_C01.MPT'])
def test_link_labels_of_file_names_are_distinct(name):
    """Item 3: file names differing only in punctuation or case shared a workflow input key."""
    others = {'PEIS_C01.mpt', 'PEIS-C01.mpt', 'peis_c01.mpt', 'PEIS C01.mpt', 'PEIS_C01.MPT'} - {name}
    assert link_label(name) not in {link_label(other) for other in others}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=string.ascii_letters[:6] + string.digits[:3] + '-_.+/ éx', min_size=1), min_size=2))
def test_link_label_is_injective_and_valid(texts):
    """Distinct strings give distinct, valid AiiDA link labels; the escape is reversible."""
    texts = list(dict.fromkeys(texts))
    labels = [link_label(text) for text in texts]
    assert len(set(labels)) == len(texts)
    for text, label in zip(texts, labels):
        assert __import__('re').fullmatch(LABEL, label), label
        assert '__' not in label and not label.endswith('_') and len(label) <= MAX_LINK_LABEL
        assert unlink_label(label) == text


def test_reserved_port_names_and_long_names():
    """A sample id equal to a fixed port name (parameters, product) must not take that port."""
    for name in RESERVED_LABELS:
        assert link_label(name) != name and unlink_label(link_label(name)) == name
    long_names = ['a' * 300, 'a' * 299 + 'b', 'a-' * 150, 'a_' * 150]
    labels = [link_label(name) for name in long_names]
    assert len(set(labels)) == len(long_names)
    assert all(len(label) <= MAX_LINK_LABEL and '__' not in label for label in labels)


# ------------------------------------------------------------------------------------------------ YAML (11, 17, 19)
def _bomb(levels: int, width: int) -> str:
    lines = [f'a0: &a0 [{", ".join(["x"] * width)}]']
    for level in range(1, levels):
        lines.append(f'a{level}: &a{level} [{", ".join([f"*a{level - 1}"] * width)}]')
    return '\n'.join(lines) + '\n'


@pytest.mark.parametrize(('levels', 'width'), [(9, 9), (6, 10), (20, 2), (12, 5)])
def test_alias_bombs_are_refused_at_once(levels, width):
    """Item 11: a 249-byte manifest took 13.5 s and 167 MB; the billion laughs never returned."""
    text = _bomb(levels, width)
    assert width**levels > ALIAS_BUDGET  # would expand beyond the budget
    start = time.perf_counter()
    with pytest.raises(YamlSyntaxError, match='alias'):
        loads_located(text)
    assert time.perf_counter() - start < 5


def test_aliases_within_the_budget_still_work():
    text = 'defaults: &d {duration: 45 min, mill: Spex}\nsteps:\n' + ''.join(
        f'  - {{<<: *d, id: S{i}}}\n' for i in range(200)
    )
    data = loads_located(text).data
    assert data['steps'][199] == {'duration': '45 min', 'mill': 'Spex', 'id': 'S199'}


@pytest.mark.parametrize('depth', [MAX_DEPTH + 1, 3000])
def test_deep_nesting_is_refused_without_recursion_error(depth):
    """Item 17: YAML nesting over 3,000 levels ended in a RecursionError traceback."""
    with pytest.raises(YamlSyntaxError, match='nesting'):  # ours, or libyaml's flow-level limit
        loads_located('a: ' + '[' * depth + ']' * depth)
    with pytest.raises(YamlSyntaxError, match='nesting deeper'):
        loads_located(''.join('  ' * i + f'k{i}:\n' for i in range(depth if depth < 500 else 500)) + '  ' * 500 + 'x')


@pytest.mark.parametrize(
    ('text', 'fragment'),
    [
        ('campaign: a\x00b\n', 'control character'),
        ('campaign: "a\x1b[31mred"\n', 'control character'),
        ('campaign: !!python/object/apply:os.system {args: [ls]}\n', "tag '!!python/object/apply:os.system'"),
        ('campaign: !!python/name:os.system\n', "tag '!!python/name:os.system'"),
        ('campaign: !local x\n', "tag '!local'"),
        ('a: &a [1, *a]\n', 'contains it'),
        ('? [1, 2]\n: x\n', 'plain value'),
    ],
)
def test_unsafe_or_broken_yaml_is_one_clear_error(text, fragment):
    """Items 17 and 19: control characters raised a ReaderError traceback; a !!python tag was reported as a
    missing campaign name."""
    with pytest.raises(YamlSyntaxError, match=__import__('re').escape(fragment)):
        loads_located(text)


def test_oversized_and_special_manifest_files(tmp_path, monkeypatch):
    """Item 17: a 1 GB sparse manifest was read into memory; a FIFO would block the reader."""
    from aiida_ssb.importer import yamlpos

    big = tmp_path / 'big.yaml'
    with open(big, 'wb') as handle:
        handle.truncate(yamlpos.MAX_MANIFEST_BYTES + 1)  # sparse: no disk space used
    with pytest.raises(YamlSyntaxError, match='a manifest is at most'):
        load_located(big)
    fifo = tmp_path / 'fifo.yaml'
    os.mkfifo(fifo)
    with pytest.raises(YamlSyntaxError, match='not a regular file'):
        load_located(fifo)


# ------------------------------------------------------------------------------------------------ units (12, 14, 19)
@pytest.mark.parametrize(
    'text',
    ['1 mg*10**10**10', '1 MPa*10**10**10', '1 mg^99', '1 m999999999', '1 mg*1e400', '1 mg^(1/2)', '1 mg;x', 'x' * 99],
)
def test_unit_strings_are_bounded_before_pint_evaluates_them(text):
    """Item 12: `mass: "1 mg*10**10**10"` and `--where "... < 1 MPa*10**10**10"` never returned."""
    start = time.perf_counter()
    with pytest.raises(UnitError):
        to_unit(text, 'mg')
    # refused before pint evaluates anything: milliseconds; the bound only separates that from "never returns"
    # (the first call also imports pint's registry, seconds on a loaded machine)
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize(
    ('text', 'unit', 'value'),
    [
        ('1.2 mg/cm2', 'mg/cm^2', 1.2),
        ('1.2 mg cm-2', 'mg/cm^2', 1.2),
        ('0.5 degC/min', 'degC/min', 0.5),
        ('10 µV/s', 'mV/s', 0.01),
        ('3 mS/cm', 'S/cm', 0.003),
        ('2 ohm*cm^2', 'ohm*cm^2', 2.0),
        ('1 kg*m^-3', 'g/cm^3', 0.001),
    ],
)
def test_ordinary_units_still_convert(text, unit, value):
    assert to_unit(text, unit) == pytest.approx(value)


@pytest.mark.parametrize('value', ['nan mg', 'inf mg', '-inf mg', '.nan mg', '1e400 mg', math.nan, math.inf, 1e400])
def test_non_finite_quantities_are_refused_with_a_clear_message(value):
    """Items 14 and 19: "'nan mg' needs a unit"; 1.0e+400 passed validation and crashed at store time."""
    with pytest.raises(UnitError, match='not a finite number'):
        to_unit(value, 'mg', default_unit='mg')


def test_schemas_refuse_non_finite_numbers_naming_the_field():
    """Item 14: NaN/inf in temperatures, diameters, masses, literature values, fixed: {R0: .nan}, frequency ranges."""
    from pydantic import ValidationError

    from aiida_ssb.schemas.analysis import EisFitOptions
    from aiida_ssb.schemas.cell import CellSpec
    from aiida_ssb.schemas.literature import LiteratureValue
    from aiida_ssb.schemas.material import MaterialSpec
    from aiida_ssb.schemas.measurement import MeasurementEntry

    layers = [{'role': 'electrolyte', 'material': 'SE-1'}]
    cases = [
        (EisFitOptions, {'circuit': 'R0-p(R1,C1)', 'fixed': {'R0': math.nan}}, ('fixed', 'R0')),
        (EisFitOptions, {'circuit': 'R0', 'frequency_range_hz': [math.nan, math.inf]}, ('frequency_range_hz', 0)),
        (LiteratureValue, {'id': 'L1', 'material': 'SE-1', 'conductivity_s_cm': math.inf}, ('conductivity_s_cm',)),
        (MaterialSpec, {'id': 'M-1', 'role': 'precursor', 'mass_mg': 1e400}, ('mass_mg',)),
        (MeasurementEntry, {'file': 'a.csv', 'cell': 'C-1', 'temperature_c': -math.inf}, ('temperature_c',)),
        (CellSpec, {'id': 'C-1', 'format': 'symmetric', 'diameter_mm': math.nan, 'layers': layers}, ('diameter_mm',)),
        (CellSpec, {'id': 'C-1', 'format': 'symmetric', 'stack_pressure': 'inf MPa', 'layers': layers}, None),
    ]
    for model, data, location in cases:
        with pytest.raises(ValidationError) as info:
            model.model_validate(data)
        errors = info.value.errors()
        assert errors, model
        if location is not None:
            assert any(tuple(error['loc'])[: len(location)] == location for error in errors), errors
        assert any('finite' in error['msg'] for error in errors), errors


def test_where_values_are_finite_and_numbers_compare_with_numbers():
    """Items 12, 14, 19: --where with unbounded powers, NaN, or text against a numeric field."""
    from aiida_ssb.query.tables import QueryError, parse_filter

    for expression in (
        'stack_pressure_mpa < 1 MPa*10**10**10',
        'stack_pressure_mpa < nan',
        'stack_pressure_mpa < inf',
        'stack_pressure_mpa < abc',
    ):
        with pytest.raises(QueryError):
            parse_filter(expression)
    assert parse_filter('stack_pressure_mpa < 1 bar').value == pytest.approx(0.1)
    assert parse_filter('sample_id == FC-01').value == 'FC-01'


def test_set_options_refuse_non_finite_values():
    """Item 14: --set "eis.frequency_range_hz=[.nan, .inf]" crashed at store time."""
    from aiida_ssb.cli.analysis import parse_settings
    from aiida_ssb.exceptions import SsbError

    with pytest.raises(SsbError, match='finite'):
        parse_settings(('eis.frequency_range_hz=[.nan, .inf]',))
    with pytest.raises(SsbError, match='finite'):
        parse_settings(('eis.fixed={R0: .nan}',))
    assert parse_settings(('eis.frequency_range_hz=[0.1, 100000.0]',))['eis_fit']['frequency_range_hz'] == [0.1, 1e5]


def test_deep_circuit_strings_are_refused_before_parsing():
    """Item 17: a 1,200-deep circuit ended in a RecursionError traceback."""
    from aiida_ssb.cli.analysis import parse_settings
    from aiida_ssb.schemas.cell import CellSpec

    circuit = 'R0-' + ''.join(f'p(R{i},' for i in range(1, 1201)) + 'C1' + ')' * 1200
    with pytest.raises(InputError, match='at most 500 characters'):
        parse_settings((f'eis.circuit={circuit}',))
    shallow_but_deep = 'R0-' + ''.join(f'p(R{i},' for i in range(1, 21)) + 'C1' + ')' * 20
    with pytest.raises(InputError, match='nests at most'):
        parse_settings((f'eis.circuit={shallow_but_deep}',))
    layers = [{'role': 'electrolyte', 'material': 'SE-1'}]
    with pytest.raises(ValueError, match='nests at most'):
        CellSpec.model_validate(
            {'id': 'C-1', 'format': 'symmetric', 'layers': layers, 'analysis': {'eis': {'circuit': shallow_but_deep}}}
        )


@pytest.mark.parametrize('depth', [17, 1200, 5000])
def test_deep_circuits_are_refused_by_the_parser(depth):
    """Item 17 in the pure layer: the parser called directly (Python API) refuses a circuit nested deeper than its
    bound with a CircuitSyntaxError naming the column, never a RecursionError; the deepest accepted one parses."""
    from aiida_ssb.analysis.eis.circuit import MAX_NESTING, Circuit, CircuitSyntaxError
    from aiida_ssb.schemas.common import MAX_CIRCUIT_DEPTH

    assert MAX_CIRCUIT_DEPTH == MAX_NESTING  # the options' check and the parser refuse the same circuits

    def nested(n):
        return 'R0-' + ''.join(f'p(R{i},' for i in range(1, n + 1)) + 'C1' + ')' * n

    assert len(Circuit(nested(MAX_NESTING)).elements) == MAX_NESTING + 2
    circuit = nested(depth)
    with pytest.raises(CircuitSyntaxError, match=f'nests at most {MAX_NESTING} levels') as raised:
        Circuit(circuit)
    opening = [i + 1 for i, char in enumerate(circuit) if char == '('][MAX_NESTING]  # opens level MAX_NESTING + 1
    assert raised.value.column == opening


# ------------------------------------------------------------------------------------------------ campaign names (19)
@pytest.mark.parametrize('name', ['a\nb', 'red\x1b[31m', 'tab\there', 'x' * 101, '', '   ', 5])
def test_campaign_names_are_one_printable_line(name):
    from aiida_ssb.data.campaign import check_campaign_name

    with pytest.raises(InputError):
        check_campaign_name(name)


# ------------------------------------------------------------------------------------------------ outputs (1)
def test_output_file_writes_only_the_named_file(tmp_path):
    """Item 1: graph -o NAME.svg overwrote, then deleted, a file NAME next to it."""
    neighbour = tmp_path / 'NAME'
    neighbour.write_text('keep me')
    target = tmp_path / 'NAME.svg'
    with output_file(target) as temporary:
        with open(os.path.join(os.path.dirname(temporary), 'NAME'), 'w') as handle:  # a tool's side file
            handle.write('scratch')
        with open(temporary, 'w') as handle:
            handle.write('<svg/>')
    assert target.read_text() == '<svg/>' and neighbour.read_text() == 'keep me'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['NAME', 'NAME.svg']
    with pytest.raises(InputError, match='use --force'):
        with output_file(target):
            pass
    with output_file(target, force=True) as temporary:
        with open(temporary, 'w') as handle:
            handle.write('<svg>2</svg>')
    assert target.read_text() == '<svg>2</svg>'
    (tmp_path / 'DIR.svg').mkdir()
    with pytest.raises(InputError, match='is a folder'):
        with output_file(tmp_path / 'DIR.svg', force=True):
            pass


def test_failed_output_leaves_nothing(tmp_path):
    target = tmp_path / 'figure.png'
    with pytest.raises(RuntimeError):
        with output_file(target) as temporary:
            with open(temporary, 'w') as handle:
                handle.write('half')
            raise RuntimeError('drawing failed')
    assert list(tmp_path.iterdir()) == []


def test_output_folder_refuses_a_non_empty_folder_unless_forced(tmp_path):
    """Item 5 and the --force rule of export."""
    folder = tmp_path / 'export'
    with output_folder(folder) as scratch:
        with open(os.path.join(scratch, 'cells.csv'), 'w') as handle:
            handle.write('a\n')
    assert (folder / 'cells.csv').read_text() == 'a\n'
    (folder / 'mine.txt').write_text('not ours')
    with pytest.raises(InputError, match='not empty'):
        with output_folder(folder):
            pass
    with output_folder(folder, force=True) as scratch:
        with open(os.path.join(scratch, 'cells.csv'), 'w') as handle:
            handle.write('b\n')
    assert (folder / 'cells.csv').read_text() == 'b\n' and (folder / 'mine.txt').read_text() == 'not ours'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['export']


def test_graph_writer_touches_nothing_but_its_output(tmp_path):
    """Item 1 through the real graph writer (Graphviz renders in a temporary folder)."""
    import shutil

    from aiida_ssb.plotting.graph import write_graph

    class _Source:
        source = 'digraph { a -> b }'

        def render(self, filename, directory, format, cleanup):
            import graphviz

            return graphviz.Source(self.source).render(
                filename=filename, directory=directory, format=format, cleanup=cleanup
            )

    class _Graph:
        graphviz = _Source()

    for name in ('NAME', 'NAME.gv'):
        (tmp_path / name).write_text('keep me')
    (tmp_path / 'DIR').mkdir()  # "-o DIR.svg" with a folder DIR beside it was an IsADirectoryError
    (tmp_path / 'FOLDER.svg').mkdir()
    write_graph(_Graph(), tmp_path / 'NAME.dot')
    if shutil.which('dot'):
        write_graph(_Graph(), tmp_path / 'NAME.svg')
        write_graph(_Graph(), tmp_path / 'DIR.svg')
        assert (tmp_path / 'NAME.svg').read_text().lstrip().startswith('<?xml')
    assert (tmp_path / 'NAME').read_text() == 'keep me' and (tmp_path / 'NAME.gv').read_text() == 'keep me'
    assert (tmp_path / 'DIR').is_dir() and not list((tmp_path / 'DIR').iterdir())
    with pytest.raises(InputError, match='use --force'):
        write_graph(_Graph(), tmp_path / 'NAME.dot')
    with pytest.raises(InputError, match='is a folder'):
        write_graph(_Graph(), tmp_path / 'FOLDER.svg', force=True)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith('.aiida-ssb')]
    assert leftovers == []


# ------------------------------------------------------------------------------------------------ secrets (9)
def test_join_file_is_0600_whatever_existed(tmp_path):
    """Item 9: the join file stayed 0644 when it existed before, with the database and broker passwords."""
    from aiida_ssb.server.profile import write_join_file

    path = tmp_path / 'join.json'
    path.write_text('old')
    os.chmod(path, 0o644)
    target = tmp_path / 'elsewhere.json'
    target.write_text('not to be written')
    link = tmp_path / 'link.json'
    link.symlink_to(target)
    for where in (path, link, tmp_path / 'new' / 'join.json'):
        write_join_file({'storage': {'config': {'database_password': 'secret'}}}, where)
        mode = stat.S_IMODE(os.lstat(where).st_mode)
        assert mode == 0o600, (where, oct(mode))
        assert 'secret' in where.read_text()
    assert target.read_text() == 'not to be written'  # the symlink was replaced, not followed
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith('.join')] == []


def test_passwords_come_from_files_prompts_or_the_environment(tmp_path, monkeypatch):
    from aiida_ssb.server.secrets import read_secret

    secret_file = tmp_path / 'pg'
    secret_file.write_text('from-file\nsecond line\n')
    monkeypatch.setenv('AIIDA_SSB_POSTGRES_PASSWORD', 'from-env')
    assert read_secret('postgres', file=secret_file) == 'from-file'
    assert read_secret('postgres', ask=True, prompt=lambda text: 'typed') == 'typed'
    assert read_secret('postgres') == 'from-env'
    monkeypatch.delenv('AIIDA_SSB_POSTGRES_PASSWORD')
    assert read_secret('postgres') is None and read_secret('broker', default='guest') == 'guest'


def test_a_password_value_on_the_command_line_is_refused():
    """Item 9: passwords given on the command line are visible in the process list."""
    from click.testing import CliRunner

    from aiida_ssb.cli import cmd_ssb

    for option in ('--postgres-password', '--database-password', '--broker-password'):
        result = CliRunner().invoke(cmd_ssb, ['server', 'setup', option, 'hunter2'])
        assert result.exit_code == 2 and 'process list' in result.output, result.output


# ------------------------------------------------------------------------------------------------ misc
def test_variants_helper_is_not_trivial():
    """The identity tests above compare real variants (guards against a helper that yields one id)."""
    assert len(_variants('LPS-1')) >= 6 and len(set(itertools.chain(_variants('A-b')))) >= 6
