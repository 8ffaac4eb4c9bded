"""`aiida-ssb record-rietveld`: an external refinement recorded against the pattern it refined, from the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from aiida_ssb.cli import cmd_ssb
from aiida_ssb.query import tables
from tests.analysis.known_answers import powder_pattern

RESULT = """\
software: TOPAS 6
rwp_percent: 2.49
phases:
  - {name: bcc NCB, space_group: Im-3m, weight_fraction: 0.92, a_angstrom: 7.882}
  - {name: orthorhombic NCB, space_group: Pca21, weight_fraction: 0.08}
"""


def _write_pattern(path, points=2000):
    x, y, _ = powder_pattern(7.882, points=points)
    path.write_text('# wavelength: 1.5406 A\n' + '\n'.join(f'{a:.4f} {b:.0f}' for a, b in zip(x, y)) + '\n')


def _invoke(*args):
    return CliRunner().invoke(cmd_ssb, [str(arg) for arg in args])


def test_record_rietveld_from_the_command_line(aiida_profile_clean, tmp_path):
    from aiida_ssb.importer.manifest import import_manifest

    _write_pattern(tmp_path / 'a.xy')
    _write_pattern(tmp_path / 'b.xy', points=2001)
    _write_pattern(tmp_path / 'a2.xy', points=2002)
    (tmp_path / 'manifest.yaml').write_text(
        'campaign: rietveld\n'
        'materials:\n'
        '  - {id: MM-1, role: electrolyte, name: NaCB11H12 milled}\n'
        '  - {id: MM-2, role: electrolyte, name: NaCB11H12 milled twice}\n'
        '  - {id: MM-3, role: electrolyte, name: no pattern}\n'
        'measurements:\n'
        '  - {material: MM-1, technique: xrd, file: a.xy}\n'
        '  - {material: MM-2, technique: xrd, file: a2.xy}\n'
        '  - {material: MM-2, technique: xrd, file: b.xy}\n'
    )
    import_manifest(tmp_path / 'manifest.yaml')
    result_file = tmp_path / 'topas.yaml'
    result_file.write_text(RESULT)

    result = _invoke('record-rietveld', 'MM-1', result_file)
    assert result.exit_code == 0, result.output
    assert 'Recorded the Rietveld result of MM-1 (a.xy): bcc NCB 0.92, orthorhombic NCB 0.08' in result.output
    frame = tables.samples(columns=['sample_id', 'rietveld_rwp_percent', 'rietveld_phases'])
    row = frame.set_index('sample_id').loc['MM-1']
    assert row['rietveld_rwp_percent'] == pytest.approx(2.49)
    assert row['rietveld_phases'] == 'bcc NCB 0.92, orthorhombic NCB 0.08'

    # several patterns: one must be chosen, by its file name
    result = _invoke('record-rietveld', 'MM-2', result_file)
    assert result.exit_code == 1 and 'MM-2 has 2 diffraction patterns' in result.output and '--pattern' in result.output
    result = _invoke('record-rietveld', 'MM-2', result_file, '--pattern', 'c.xy')
    assert result.exit_code == 1 and "no diffraction pattern from a file named 'c.xy'" in result.output
    result = _invoke('record-rietveld', 'MM-2', result_file, '--pattern', 'b.xy')
    assert result.exit_code == 0 and '(b.xy)' in result.output, result.output

    # refusals store nothing
    from aiida import orm

    before = orm.QueryBuilder().append(orm.Node).count()
    result = _invoke('record-rietveld', 'MM-3', result_file)
    assert result.exit_code == 1 and 'MM-3 has no diffraction pattern' in result.output
    bad = tmp_path / 'bad.yaml'
    bad.write_text('phases:\n  - {name: a, weight_fraction: 0.8}\n  - {name: b, weight_fraction: 0.8}\n')
    result = _invoke('record-rietveld', 'MM-1', bad)
    assert result.exit_code == 1 and 'add up to 1.600 > 1' in result.output and 'Traceback' not in result.output
    bad.write_text('- just a list\n')
    result = _invoke('record-rietveld', 'MM-1', bad)
    assert result.exit_code == 1 and 'expected a mapping' in result.output
    bad.write_text('phases: [unclosed\n')
    result = _invoke('record-rietveld', 'MM-1', bad)
    assert result.exit_code == 1 and 'bad.yaml' in result.output
    assert orm.QueryBuilder().append(orm.Node).count() == before
