"""Commands that record results made outside aiida-ssb against the records they were made from."""

from __future__ import annotations

import click

from aiida_ssb.cli.root import cmd_ssb
from aiida_ssb.cli.utils import clean_errors


@cmd_ssb.command('record-rietveld')
@click.argument('sample_id')
@click.argument('result_file', type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option(
    '--pattern',
    'pattern_name',
    metavar='FILE_NAME',
    help="The diffraction record's file name, when the sample has several patterns.",
)
@clean_errors
def cmd_record_rietveld(sample_id, result_file, pattern_name):
    """Record the result of a Rietveld refinement made elsewhere (TOPAS, FullProf, GSAS-II...) against the
    diffraction pattern of SAMPLE_ID it refined.

    RESULT_FILE is YAML or JSON with the fields of the Rietveld result (docs: Diffraction): ``phases`` (each with
    ``name`` and any of ``space_group``, ``weight_fraction``, ``a_angstrom``, ...), ``rwp_percent``, ``software``,
    ``reference``... It is validated first (nothing stored on an error), then stored linked to the pattern;
    ``samples --columns sample_id,rietveld_phases,rietveld_rwp_percent`` lists it. Each call records a new result
    (two refinements of one pattern are two results)."""
    import pathlib

    from aiida_ssb.calculations.diffraction import run_record_rietveld
    from aiida_ssb.data.measurements import DiffractionData
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.exceptions import InputError
    from aiida_ssb.importer.yamlpos import load_located
    from aiida_ssb.query.records import measurements_of_cell

    path = pathlib.Path(result_file)
    values = load_located(path).data
    if not isinstance(values, dict):
        raise InputError(f'{path}: expected a mapping of Rietveld result fields (phases, rwp_percent, ...)')
    node = load_sample(sample_id)
    patterns = measurements_of_cell(node, [DiffractionData])
    names = [pattern.base.attributes.get('source_filename', '') for pattern in patterns]
    if pattern_name is not None:
        patterns = [pattern for pattern, name in zip(patterns, names) if name == pattern_name]
        if not patterns:
            raise InputError(
                f'{sample_id} has no diffraction pattern from a file named {pattern_name!r}'
                + (f' (its patterns: {", ".join(names)})' if names else '')
            )
    if not patterns:
        raise InputError(f'{sample_id} has no diffraction pattern: import the pattern the refinement was made on first')
    if len(patterns) > 1:
        raise InputError(
            f'{sample_id} has {len(patterns)} diffraction patterns ({", ".join(names)}): choose one with --pattern'
        )
    (pattern,) = patterns
    summary = run_record_rietveld(pattern, values)
    phases = ', '.join(
        phase['name'] + (f' {phase["weight_fraction"]:g}' if phase.get('weight_fraction') is not None else '')
        for phase in summary.get('phases', [])
    )
    click.echo(
        f'Recorded the Rietveld result of {sample_id} ({pattern.base.attributes.get("source_filename", "")}): '
        f'{phases}; result pk {summary.pk}'
    )
