"""Commands that draw and export: ``graph``, ``plot``, ``export``."""

from __future__ import annotations

import os

import click

from aiida_ssb.cli.root import cmd_ssb
from aiida_ssb.cli.utils import clean_errors
from aiida_ssb.exceptions import InputError
from aiida_ssb.plotting.kinds import CAMPAIGN_KINDS, NYQUIST_SCALES, PLOT_KINDS


def arrays_of(node) -> dict:
    """Every array of an ArrayData as a dict (name -> numpy array)."""
    return {name: node.get_array(name) for name in node.get_arraynames()}


@cmd_ssb.command('graph')
@click.argument('sample_id')
@click.option('--depth', type=int, default=None, help='How many links to follow (default: all).')
@click.option(
    '--what',
    type=click.Choice(['synthesis', 'measurements', 'all']),
    default='all',
    show_default=True,
    help='The history (ancestors), the measurements and analyses (descendants), or both.',
)
@click.option(
    '-o',
    '--output',
    required=True,
    type=click.Path(dir_okay=False),
    help='Output file: .svg, .png, .pdf (rendered with Graphviz) or .dot (source). Nothing else is written.',
)
@click.option('--force', is_flag=True, help='Replace the output if it exists.')
@clean_errors
def cmd_graph(sample_id, depth, what, output, force):
    """Draw the provenance graph of a sample with readable labels (sample ids, lab steps with their key
    parameters, records with their conditions, headline numbers on results)."""
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.outputs import check_output_file
    from aiida_ssb.plotting.graph import sample_graph, write_graph

    check_output_file(output, force=force)  # before the graph is built
    graph = sample_graph(load_sample(sample_id), depth=depth, what=what)
    path = write_graph(graph, output, force=force)
    click.echo(f'Wrote {path} ({len(graph.nodes)} nodes).')


def _plot_sample(sample_id: str, kind: str, index: int | None, record=None, nyquist_scale: str = 'auto'):
    """The figure of one cell's record (``record``: a measurement node, default the newest analysed one)."""
    from aiida_ssb.plotting.figures import cell_figure

    return cell_figure(sample_id, kind, record=record, index=index, nyquist_scale=nyquist_scale)


def _plot_campaign(campaign: str, kind: str, x: str | None, y: str | None, label_by: str | None, table: str):
    from aiida_ssb.plotting.figures import campaign_figure

    if kind == 'scatter' and (not x or not y):
        raise click.UsageError('a scatter plot needs --x and --y (fields of the cells or samples table)')
    return campaign_figure(campaign, kind, x=x, y=y, label_by=label_by, table=table)


@cmd_ssb.command('plot')
@click.argument('sample_id', required=False)
@click.option(
    '--kind',
    required=True,
    type=click.Choice(PLOT_KINDS + CAMPAIGN_KINDS),
    help='A figure of one cell or material (nyquist, bode, arrhenius, voltammogram, stepwise, profiles, capacity, '
    'rate, ccd, resistance, dqdv, dvdq, gitt, pitt, polarisation, transference, thermal, diffraction, drt) or of a '
    'campaign (scatter, retention, arrhenius, dqdv with --campaign).',
)
@click.option('--index', type=int, default=None, help='Which spectrum/record when the cell has several (0-based).')
@click.option(
    '--nyquist-scale',
    type=click.Choice(NYQUIST_SCALES),
    default='auto',
    show_default=True,
    help='Nyquist plot of several spectra: linear (ohm, or ohm cm2), normalised (each spectrum divided by its '
    'resistance), log (logarithmic axes); auto: normalised when the resistances span more than a decade.',
)
@click.option('--campaign', help='Compare the cells of a campaign (with --kind scatter, retention, arrhenius or dqdv).')
@click.option('--x', 'x_field', help='Campaign scatter: the x field (e.g. electrolyte.ball_milling.duration_min).')
@click.option('--y', 'y_field', help='Campaign scatter: the y field (e.g. conductivity_25c_s_cm).')
@click.option('--label-by', help='Campaign plots: a field to label each cell with (e.g. stack_pressure_mpa).')
@click.option(
    '--table',
    type=click.Choice(['cells', 'samples']),
    default='cells',
    show_default=True,
    help='Campaign scatter: the table the fields come from.',
)
@click.option('-o', '--output', required=True, type=click.Path(dir_okay=False), help='Output file (.png, .svg, .pdf).')
@click.option('--force', is_flag=True, help='Replace the output if it exists.')
@clean_errors
def cmd_plot(sample_id, kind, index, nyquist_scale, campaign, x_field, y_field, label_by, table, output, force):
    """Draw a figure of one cell's data and analyses, or compare the cells of a campaign."""
    from aiida_ssb.outputs import check_output_file
    from aiida_ssb.plotting.common import save_figure

    check_output_file(output, force=force)  # before anything is drawn

    if campaign:
        if kind not in CAMPAIGN_KINDS:
            raise click.UsageError(f'with --campaign, --kind is one of {", ".join(CAMPAIGN_KINDS)}')
        figure = _plot_campaign(campaign, kind, x_field, y_field, label_by, table)
    else:
        if not sample_id:
            raise click.UsageError('give a SAMPLE_ID, or --campaign NAME')
        if kind in ('scatter', 'retention'):
            raise click.UsageError(f'--kind {kind} compares a campaign: add --campaign NAME')
        figure = _plot_sample(sample_id, kind, index, nyquist_scale=nyquist_scale)
    click.echo(f'Wrote {save_figure(figure, output, force=force)}.')


@cmd_ssb.command('export')
@click.argument('sample_ids', nargs=-1)
@click.option('--campaign', help='Export every sample of this campaign.')
@click.option(
    '--format',
    'file_format',
    type=click.Choice(['csv', 'parquet', 'bdf', 'ro-crate', 'battinfo']),
    default='csv',
    show_default=True,
    help='csv/parquet: tables in a folder; bdf: cycling records as Battery Data Format files (.bdf.csv + '
    '.metadata.json), the tables as CSV; ro-crate: one .eln file (zipped RO-Crate with raw files, tables, results, '
    'figures, BattINFO and the provenance); battinfo: the cells as one BattINFO JSON-LD file.',
)
@click.option(
    '-o',
    '--output',
    required=True,
    type=click.Path(),
    help='Output folder (csv, parquet, bdf; created), .eln file (ro-crate) or .jsonld file (battinfo).',
)
@click.option(
    '--force', is_flag=True, help='Write into an existing, non-empty folder or over an existing file (replacing it).'
)
@clean_errors
def cmd_export(sample_ids, campaign, file_format, output, force):
    """Write the tables a colleague without AiiDA can open: cells (records and headline numbers), samples,
    every measurement's data, and every analysis summary, as CSV or Parquet files in a folder; or publish a
    campaign as an RO-Crate (.eln, readable by electronic lab notebooks) or as BattINFO JSON-LD."""
    if file_format in ('ro-crate', 'battinfo') and os.path.exists(output) and not force:
        raise InputError(f'{output} exists: choose another name, or --force to replace it')
    if file_format == 'ro-crate':
        from aiida_ssb.plotting.plotdata import png_of_plot_data
        from aiida_ssb.query.rocrate import export_rocrate

        path = export_rocrate(output, sample_ids=list(sample_ids) or None, campaign=campaign, draw=png_of_plot_data)
        click.echo(f'Wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB, RO-Crate 1.1 in the .eln format).')
        return
    if file_format == 'battinfo':
        from aiida_ssb.query.battinfo import write_battinfo

        path, count = write_battinfo(output, sample_ids=list(sample_ids) or None, campaign=campaign)
        click.echo(f'Wrote {path} (BattINFO JSON-LD of {count} cell(s)).')
        return
    from aiida_ssb.query.export import export_tables

    written = export_tables(
        output, sample_ids=list(sample_ids) or None, campaign=campaign, file_format=file_format, force=force
    )
    click.echo(f'Wrote {len(written)} files to {output}:')
    for path in written[:12]:
        click.echo(f'  {os.path.relpath(path, output)}')
    if len(written) > 12:
        click.echo(f'  ... and {len(written) - 12} more (see index.{"csv" if file_format == "bdf" else file_format})')
