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


class Selection:
    """Which results a figure of one sample draws: ``--record`` (a record's number in `aiida-ssb show`, or its file
    name or a unique part of it) and ``--run`` (the pk of a CellAnalysisWorkChain of the sample). Without
    ``--record``, a figure of one record draws the record the headline numbers come from (`aiida-ssb show`
    marks it), else the newest result; without ``--run``, the newest result of each record."""

    def __init__(self, sample, record: str | None = None, run: int | None = None):
        self.sample = sample
        self.sample_id = sample.sample_id
        self.record_text = record
        self.run = self._run(run) if run is not None else None
        self.records = self._records(record) if record is not None else None

    # the numbering of `aiida-ssb show`: parse processes in time order, their outputs by part
    def numbered(self) -> list:
        from aiida_ssb.query.history import measurements_of

        return [output for _, outputs in measurements_of(self.sample) for output in outputs]

    def _records(self, text: str) -> list:
        numbered = self.numbered()
        listing = '; '.join(f'#{n} {node.describe()}' for n, node in enumerate(numbered[:12], 1)) + (
            f'; ... ({len(numbered)} in all)' if len(numbered) > 12 else ''
        )
        if not numbered:
            raise InputError(f'{self.sample_id} has no records')
        wanted = text.strip().lstrip('#')
        if wanted.isdigit():
            number = int(wanted)
            if not 1 <= number <= len(numbered):
                raise InputError(
                    f'--record {text}: {self.sample_id} has {len(numbered)} record(s), numbered 1 to {len(numbered)}: '
                    f'{listing}'
                )
            return [numbered[number - 1]]
        from aiida_ssb.query.records import measurement_label

        def name(node):
            return (node.base.attributes.get('source_filename', None) or '').lower()

        exact = [node for node in numbered if name(node) == wanted.lower() or measurement_label(node) == wanted]
        found = exact or [node for node in numbered if wanted.lower() in name(node)]
        if not found:
            raise InputError(
                f'--record {text}: no record of {self.sample_id} has that file name; its records: {listing}'
            )
        return found

    def _run(self, pk: int):
        from aiida_ssb.cli.analysis import previous_runs

        runs = previous_runs(self.sample)
        for run in runs:
            if run.pk == pk:
                return run
        known = ', '.join(f'{run.pk} ({run.ctime:%Y-%m-%d %H:%M})' for run in runs[:10]) or 'none yet'
        raise InputError(f'--run {pk} is not an analysis run of {self.sample_id}; its runs (newest first): {known}')

    def results(self, analysis: str, *, needed: bool = True) -> list:
        """The results of ``analysis`` chosen by --record/--run: the newest per record, newest first; an error
        saying why when there is none (and ``needed``)."""
        from aiida_ssb.query.results import latest_results, measured_record

        found, seen = [], set()
        for result in latest_results(self.sample_id, analysis):
            caller = result.process.caller
            if self.run is not None and (caller is None or caller.pk != self.run.pk):
                continue
            record = measured_record(result)
            key = record.pk if record is not None else None
            if self.records is not None and key not in {node.pk for node in self.records}:
                continue
            if key is not None and key in seen:
                continue
            seen.add(key)
            found.append(result)
        if not found and needed:
            raise InputError(self._missing(analysis))
        return found

    def _headline_pks(self, analysis: str) -> set[int]:
        from aiida_ssb.query.results import headline_record_pks

        return headline_record_pks(self.sample, analysis)

    def _missing(self, analysis: str) -> str:
        if self.records is not None:
            names = ', '.join(node.describe() for node in self.records[:4])
            where = f' in --run {self.run.pk}' if self.run is not None else ''
            return f'--record {self.record_text} ({names}) has no {analysis} result{where}'
        if self.run is not None:
            return f'CellAnalysisWorkChain<{self.run.pk}> of {self.sample_id} made no {analysis} result'
        from aiida_ssb.workflows.cell import explain_missing

        return explain_missing(self.sample, analysis)

    def no_record(self, kind: str) -> None:
        """Refuse --record for a figure of a whole series (Arrhenius, resistance track)."""
        if self.records is not None:
            raise InputError(f'--record does not apply to --kind {kind}: it draws one result of the whole series')


def _plot_sample(
    sample_id: str, kind: str, record: str | None = None, run: int | None = None, nyquist_scale: str = 'auto'
):
    """The figure of one cell's record, chosen by ``--record``/``--run`` (:class:`Selection`)."""
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.plotting.figures import cell_figure
    from aiida_ssb.query.results import measured_record

    select = Selection(load_sample(sample_id), record, run)
    if kind in ('arrhenius', 'resistance'):
        select.no_record(kind)
    chosen = select.records[0] if select.records is not None and len(select.records) == 1 else None

    def choose(analysis: str) -> list:
        """The results a figure draws: those of --record/--run, the headline record's first (else the newest)."""
        results = select.results(analysis, needed=kind not in ('nyquist', 'bode') or run is not None)
        if select.records is None and results:
            headline = select._headline_pks(analysis)
            results.sort(key=lambda result: getattr(measured_record(result), 'pk', None) not in headline)
        return results

    return cell_figure(sample_id, kind, record=chosen, nyquist_scale=nyquist_scale, choose=choose)


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
@click.option(
    '--record',
    help='Which record of the sample to draw: its number in `aiida-ssb show` (e.g. 2) or its file name (or a unique '
    'part of it). Default: the record the headline numbers come from (show marks it); every spectrum for nyquist.',
)
@click.option(
    '--run',
    'run_pk',
    type=int,
    help='Draw the results of this analysis run (the pk of a CellAnalysisWorkChain of the sample, as `aiida-ssb '
    'compare` and `aiida-ssb status` list them). Default: the newest result of each record.',
)
@click.option('--index', type=int, hidden=True, help='Replaced by --record and --run.')
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
def cmd_plot(
    sample_id, kind, record, run_pk, index, nyquist_scale, campaign, x_field, y_field, label_by, table, output, force
):
    """Draw a figure of one cell's data and analyses, or compare the cells of a campaign.

    A cell with several records of one kind (two cycling files, many spectra): --record chooses one (by its number
    in `aiida-ssb show` or its file name); --run draws the results of an earlier analysis run.
    """
    from aiida_ssb.outputs import check_output_file
    from aiida_ssb.plotting.common import save_figure

    if index is not None:
        raise click.UsageError(
            '--index was replaced: --record N (the record numbered N by `aiida-ssb show`, or its file name) '
            'and --run PK (an analysis run)'
        )

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
        figure = _plot_sample(sample_id, kind, record, run_pk, nyquist_scale=nyquist_scale)
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
