"""Commands that draw and export: ``graph``, ``plot``, ``export``."""

from __future__ import annotations

import os

import click

from aiida_ssb.cli.root import cmd_ssb
from aiida_ssb.cli.utils import clean_errors
from aiida_ssb.exceptions import InputError


def arrays_of(node) -> dict:
    """Every array of an ArrayData as a dict (name -> numpy array)."""
    return {name: node.get_array(name) for name in node.get_arraynames()}


PLOT_KINDS = (
    'nyquist',
    'bode',
    'arrhenius',
    'voltammogram',
    'onsets',
    'stepwise',
    'stepwise_cv',
    'profiles',
    'capacity',
    'rate',
    'ccd',
    'resistance',
    'dqdv',
    'dvdq',
    'gitt',
    'pitt',
    'polarisation',
    'transference',
    'thermal',
    'diffraction',
    'drt',
)
CAMPAIGN_KINDS = ('scatter', 'retention', 'arrhenius', 'dqdv')

#: plot kinds of issue 21's analyses -> the analysis whose latest result they draw
_ISSUE21_KINDS = {
    'dqdv': 'dqdv',
    'dvdq': 'dqdv',
    'gitt': 'gitt',
    'pitt': 'pitt',
    'polarisation': 'dc_polarisation',
    'transference': 'transference_number',
    'thermal': 'thermal',
    'diffraction': 'diffraction',
}


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

    def one(self, analysis: str):
        """The one result a figure of one record draws."""
        results = self.results(analysis)
        if self.records is not None and len(results) > 1:
            from aiida_ssb.query.results import measured_record

            names = '; '.join(measured_record(r).describe() for r in results[:8])
            raise InputError(
                f'--record {self.record_text} matches {len(results)} records with {analysis} results ({names}): '
                f'give its number (aiida-ssb show {self.sample_id} numbers them)'
            )
        if self.records is None:
            headline = self._headline_pks(analysis)
            from aiida_ssb.query.results import measured_record

            for result in results:
                record = measured_record(result)
                if record is not None and record.pk in headline:
                    return result
        return results[0]

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


def _plot_issue21(sample_id: str, kind: str, select: Selection):
    """dQ/dV, dV/dQ, GITT, PITT, polarisation, transference, thermal and diffraction figures of a sample."""
    from aiida_ssb.plotting import diffraction as xrd
    from aiida_ssb.plotting import electrochem as ec
    from aiida_ssb.plotting import thermal as th
    from aiida_ssb.query.results import measured_record

    result = select.one(_ISSUE21_KINDS[kind])
    curves = arrays_of(result.curves)
    summary = result.summary.get_dict()
    title = f'{sample_id} ({_ISSUE21_KINDS[kind]})'
    if kind == 'dqdv':
        return ec.plot_dqdv(curves, summary, title=title)
    if kind == 'dvdq':
        return ec.plot_dvdq(curves, title=title)
    if kind == 'gitt':
        record = measured_record(result)
        return ec.plot_titration(
            curves, summary, record=(record.column('time_s'), record.column('voltage_v')), title=title
        )
    if kind == 'pitt':
        record = measured_record(result)
        return ec.plot_titration(
            curves,
            summary,
            record=(record.column('time_s'), record.column('current_ma')),
            record_label='current / mA',
            title=title,
        )
    if kind == 'polarisation':
        return ec.plot_polarisation(curves, summary, title=title)
    if kind == 'transference':
        return ec.plot_transference(curves, summary, title=title)
    if kind == 'thermal':
        return th.plot_thermal(curves, summary, title=title)
    return xrd.plot_diffraction(curves, summary, title=title)


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


def _spectrum_labels(spectra) -> list[str]:
    """Legend entries of several spectra from their measurement conditions (temperature, branch, cycle, upper
    cut-off), leaving out what all of them share; a spectrum's own label where nothing tells them apart."""
    described = []
    for spectrum in spectra:
        conditions = spectrum.conditions
        parts = []
        if conditions.get('temperature_c') is not None:
            parts.append(f'{conditions["temperature_c"]:g} °C')
        if conditions.get('branch'):
            parts.append(str(conditions['branch']))
        if conditions.get('cycle_index') is not None:
            parts.append(f'cycle {conditions["cycle_index"]}')
        if conditions.get('upper_cutoff_v') is not None:
            parts.append(f'after {conditions["upper_cutoff_v"]:g} V')
        described.append(parts)
    shared = set.intersection(*(set(parts) for parts in described)) if described else set()
    return [
        ', '.join(part for part in parts if part not in shared) or spectrum.label or f'spectrum {spectrum.pk}'
        for spectrum, parts in zip(spectra, described)
    ]


def _plot_sample(sample_id: str, kind: str, record: str | None = None, run: int | None = None):
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.plotting import cycling as cyc
    from aiida_ssb.plotting import impedance as imp
    from aiida_ssb.plotting import voltammetry as volt
    from aiida_ssb.query.results import measured_record

    cell = load_sample(sample_id)
    select = Selection(cell, record, run)
    area = cell.base.attributes.get('electrode_area_cm2', None)
    if kind in _ISSUE21_KINDS:
        return _plot_issue21(sample_id, kind, select)
    if kind in ('nyquist', 'bode'):
        from aiida_ssb.data.measurements import ImpedanceSpectrumData
        from aiida_ssb.query.records import measurements_of_cell

        fitted = {measured_record(r).pk: r for r in select.results('eis_fit', needed=run is not None)}
        records = measurements_of_cell(cell, (ImpedanceSpectrumData,))
        if select.records is not None:
            records = [node for node in records if node.pk in {chosen.pk for chosen in select.records}]
            if not records:
                raise InputError(f'--record {record} is not an impedance spectrum of {sample_id}')
        if run is not None:
            records = [node for node in records if node.pk in fitted]
        spectra = [(node, fitted.get(node.pk)) for node in records]
        if not spectra:
            raise InputError(f'{sample_id} has no impedance spectrum')

        def parts(result):
            if result is None:
                return None, None
            return arrays_of(result.curves) if result.curves else None, result.summary.get_dict()

        if kind == 'bode':
            spectrum, result = spectra[0]
            frequency, z = spectrum.impedance()
            curves, summary = parts(result)
            return imp.plot_bode(frequency, z, curves=curves, summary=summary, title=f'{sample_id} {spectrum.label}')
        chosen = spectra
        figure = None
        labels = _spectrum_labels([spectrum for spectrum, _ in chosen[:12]]) if len(chosen) > 1 else [None]
        for (spectrum, result), label in zip(chosen[:12], labels):
            frequency, z = spectrum.impedance()
            curves, summary = parts(result)
            figure = imp.plot_nyquist(
                frequency,
                z,
                curves=curves,
                summary=summary,
                area_cm2=area,
                title=None
                if figure
                else f'{sample_id}: {len(chosen)} spectra' + (' (first 12)' if len(chosen) > 12 else ''),
                label=label,
                figure_axes=(figure, figure.axes[0]) if figure else None,
            )
        if len(chosen) > 1 and figure is not None:
            figure.axes[0].legend(fontsize=7, ncol=2)
        return figure
    if kind == 'drt':
        picked = sorted(select.results('drt'), key=lambda r: r.process.ctime)
        figure = None
        records = [measured_record(result) for result in picked[:8]]
        labels = _spectrum_labels(records) if len(records) > 1 else [None]
        for drt_result, label in zip(picked[:8], labels):
            figure = imp.plot_drt(
                drt_result.summary.get_dict(),
                arrays_of(drt_result.curves),
                title=None if figure else f'{sample_id}: distribution of relaxation times',
                figure_axes=(figure, figure.axes[0]) if figure else None,
                label=label,
            )
        return figure
    if kind == 'arrhenius':
        select.no_record(kind)
        result = select.one('arrhenius')
        return imp.plot_arrhenius(result.summary.get_dict(), arrays_of(result.curves), title=sample_id)
    if kind == 'resistance':
        select.no_record(kind)
        result = select.one('interface_growth')
        return imp.plot_resistance_track(result.summary.get_dict(), arrays_of(result.curves), title=sample_id)
    if kind in ('voltammogram', 'onsets'):  # 'onsets': the analysis's name (registry plot kind)
        result = select.one('onsets')
        record = measured_record(result)
        return volt.plot_onsets(
            record.column('voltage_v'),
            record.column('current_ma'),
            result.summary.get_dict(),
            arrays_of(result.curves),
            area_cm2=area,
            title=f'{sample_id} {record.label}',
        )
    if kind in ('stepwise', 'stepwise_cv'):
        result = select.one('stepwise_cv')
        record = measured_record(result)
        return volt.plot_stepwise_cv(
            record.column('voltage_v'),
            record.column('current_ma'),
            result.summary['steps'],
            title=f'{sample_id}: stepwise CV',
        )
    if kind in ('profiles', 'capacity', 'rate'):
        result = select.one('cycling')
        curves = arrays_of(result.curves)
        summary = result.summary.get_dict()
        if kind == 'capacity':
            return cyc.plot_capacity(curves, summary=summary, title=sample_id)
        if kind == 'rate':
            return cyc.plot_rate(curves, title=sample_id)
        record = measured_record(result)
        active = summary.get('masses_mg', {}).get('active')
        three = summary.get('conventions', {}).get('three_electrode')
        return cyc.plot_profiles(
            record.column('time_s'),
            record.column('voltage_v'),
            record.column('current_ma'),
            curves,
            mass_g=active / 1000.0 if active else None,
            title=sample_id,
            counter_voltage_v=record.column('counter_voltage_v') if three else None,
            working_electrode=(three or {}).get('working_electrode', 'positive'),
        )
    if kind == 'ccd':
        result = select.one('ccd')
        record = measured_record(result)
        return cyc.plot_ccd(
            record.column('time_s'),
            record.column('voltage_v'),
            result.summary.get_dict(),
            arrays_of(result.curves),
            title=sample_id,
        )
    raise InputError(f'unknown plot kind {kind!r}')


def _plot_campaign(campaign: str, kind: str, x: str | None, y: str | None, label_by: str | None, table: str):
    import numpy as np

    from aiida_ssb.plotting.common import new_figure
    from aiida_ssb.query import tables

    if kind == 'scatter':
        if not x or not y:
            raise click.UsageError('a scatter plot needs --x and --y (fields of the cells or samples table)')
        columns = ['sample_id', x, y] + ([label_by] if label_by else [])
        getter = tables.cells if table == 'cells' else tables.samples
        frame = getter(campaign=campaign, columns=list(dict.fromkeys(columns)))
        frame = frame.dropna(subset=[x, y])
        if frame.empty:
            raise InputError(f'no {table} of {campaign!r} have both {x} and {y}')
        figure, ax = new_figure()
        ax.plot(frame[x], frame[y], 'o-' if frame[x].is_monotonic_increasing else 'o')
        for _, row in frame.iterrows():
            ax.annotate(str(row['sample_id']), (row[x], row[y]), fontsize=7, xytext=(3, 3), textcoords='offset points')
        if y.endswith('_s_cm'):
            ax.set_yscale('log')
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f'{campaign}: {y} against {x}', fontsize=9)
        return figure
    if kind == 'retention':
        from aiida_ssb.query.results import latest_results

        frame = tables.cells(campaign=campaign, columns=['sample_id'] + ([label_by] if label_by else []))
        figure, ax = new_figure()
        drawn = 0
        for _, row in frame.iterrows():
            results = latest_results(row['sample_id'], 'cycling', limit=1)
            if not results or results[0].curves is None:
                continue
            curves = arrays_of(results[0].curves)
            label = row['sample_id'] + (
                f' ({label_by} {row[label_by]:.3g})'
                if label_by and row.get(label_by) is not None and isinstance(row.get(label_by), float)
                else ''
            )
            ax.plot(
                curves['cycle__cycle'], curves['cycle__capacity_retention_percent'], '.-', ms=2, lw=0.8, label=label
            )
            drawn += 1
        if not drawn:
            raise InputError(
                f'no cell of {campaign!r} has a cycling result: run `aiida-ssb analyse --campaign {campaign}`'
            )
        ax.set_xlabel('cycle')
        ax.set_ylabel('capacity retention / %')
        ax.axhline(80, color='0.6', ls=':', lw=0.8)
        ax.legend(fontsize=7)
        ax.set_title(f'{campaign}: capacity retention', fontsize=9)
        return figure
    if kind == 'arrhenius':
        from aiida_ssb.plotting.impedance import plot_arrhenius
        from aiida_ssb.query.results import latest_results

        frame = tables.cells(campaign=campaign, columns=['sample_id'] + ([label_by] if label_by else []))
        figure_axes = None
        for _, row in frame.iterrows():
            results = latest_results(row['sample_id'], 'arrhenius', limit=1)
            if not results:
                continue
            label = row['sample_id'] + (f' ({row[label_by]})' if label_by and row.get(label_by) is not None else '')
            figure = plot_arrhenius(
                results[0].summary.get_dict(), arrays_of(results[0].curves), figure_axes=figure_axes, label=label
            )
            figure_axes = (figure, figure.axes[0])
        if figure_axes is None:
            raise InputError(f'no cell of {campaign!r} has an Arrhenius result')
        figure_axes[1].set_title(f'{campaign}: Arrhenius', fontsize=9)
        del np
        return figure_axes[0]
    if kind == 'dqdv':
        from aiida_ssb.plotting.electrochem import plot_dqdv_overlay
        from aiida_ssb.query.results import latest_results

        frame = tables.cells(campaign=campaign, columns=['sample_id'] + ([label_by] if label_by else []))
        entries = []
        for _, row in frame.iterrows():
            results = latest_results(row['sample_id'], 'dqdv', limit=1)
            if not results:
                continue
            label = row['sample_id'] + (f' ({row[label_by]})' if label_by and row.get(label_by) is not None else '')
            entries.append((label, arrays_of(results[0].curves), results[0].summary.get_dict()))
        if not entries:
            raise InputError(f'no cell of {campaign!r} has a dqdv result')
        return plot_dqdv_overlay(entries, title=f'{campaign}: dQ/dV of the first half cycle')
    raise InputError(f'unknown campaign plot kind {kind!r}')


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
def cmd_plot(sample_id, kind, record, run_pk, index, campaign, x_field, y_field, label_by, table, output, force):
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
        figure = _plot_sample(sample_id, kind, record, run_pk)
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
