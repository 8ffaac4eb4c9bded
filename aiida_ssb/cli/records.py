"""Commands for records: ``import``, ``import-file``, ``samples``, ``cells``, ``show``."""

from __future__ import annotations

import json

import click

from aiida_ssb.cli.root import cmd_ssb
from aiida_ssb.cli.utils import OUTPUT_FORMAT, clean_errors, print_frame, print_rows
from aiida_ssb.exceptions import InputError


@cmd_ssb.command('import')
@click.argument('manifest', type=click.Path(dir_okay=False))
@click.option('--dry-run', is_flag=True, help='Validate and show what would be stored, without storing anything.')
@click.option(
    '--allow-outside',
    is_flag=True,
    help="Accept measurement files outside the manifest's folder (absolute paths, .., symlinks pointing elsewhere).",
)
@click.option(
    '--single-transaction',
    is_flag=True,
    help='Store everything in one transaction (all or nothing), instead of batches of a few seconds; on SQLite '
    'other writers then wait for the whole import.',
)
@clean_errors
def cmd_import(manifest, dry_run, allow_outside, single_transaction):
    """Import a lab MANIFEST (YAML): materials, lab steps, cells and measurement files.

    The whole manifest is validated first (every problem is reported with its line; nothing is stored when
    there is one). Then every entry is stored complete (a material with its lab step, a measurement with its
    raw file), in transactions of a few seconds each. Entries already in the database with the same content are
    skipped, so importing twice changes nothing, an extended manifest adds only its new entries, and an
    interrupted import is completed by running it again. Measurement files are read from the manifest's folder.
    """
    from aiida_ssb.importer.manifest import import_manifest, plan_import

    plan = plan_import(manifest, allow_outside=allow_outside)
    if dry_run:
        click.echo(f'{manifest} is valid (campaign {plan.campaign!r}); nothing was stored. Would store:')
        for name, counts in plan.counts().items():
            click.echo(f'  {name:<13} new {counts["new"]:>4}   already stored {counts["unchanged"]:>4}')
        return
    if plan.n_new == 0:
        click.echo(f'Nothing new in {manifest}: everything is already stored (campaign {plan.campaign!r}).')
        return
    with click.progressbar(
        length=plan.n_new, label='Importing', show_pos=True, file=click.get_text_stream('stderr')
    ) as bar:
        report = import_manifest(
            manifest,
            progress=lambda message: bar.update(1),
            allow_outside=allow_outside,
            single_transaction=single_transaction,
            plan=plan,
        )
    click.echo(f'Imported {manifest} into campaign {plan.campaign!r} (group {report.group_label!r}):')
    for name, counts in report.plan.counts().items():
        created = len(report.created.get(name, []))
        total = counts['new'] + counts['unchanged']
        click.echo(f'  {name:<13} created {created:>4}   already stored {total - created:>4}')
    if report.warnings:
        click.secho(
            f'{len(report.warnings)} plausibility flag(s), stored with the records (aiida-ssb show SAMPLE):',
            fg='yellow',
        )
        for line in report.warnings:
            click.echo(f'  {line}')


@cmd_ssb.command('import-archive')
@click.argument('archive', type=click.Path(dir_okay=False))
@click.option('--dry-run', is_flag=True, help='Only check the archive against this profile.')
@clean_errors
def cmd_import_archive(archive, dry_run):
    """Import an AiiDA ARCHIVE (from `verdi archive create`) without duplicating samples or raw files.

    The same nodes (same UUIDs) merge. A sample id or raw file that exists here as another node refuses the whole
    archive, listing the conflicts; nothing is imported. A campaign of the same name merges into the one here.
    """
    from aiida_ssb.importer.archive import import_archive_checked

    report = import_archive_checked(archive, dry_run=dry_run)
    check = report.check
    what = f'{len(check.samples)} samples ({check.merged_samples} already here) and {len(check.raw_files)} raw files'
    if dry_run:
        click.echo(f'{archive} can be imported: {what}; nothing was imported (--dry-run).')
        return
    click.echo(f'Imported {archive}: {what}; {report.nodes_after - report.nodes_before} new nodes.')
    for name in report.merged_campaigns:
        click.echo(f'  campaign {name!r} merged into the campaign of that name here')


#: examples of the condition options (the measurement schema's fields, under the names a manifest uses)
_CONDITION_EXAMPLES = {
    'temperature_c': 'Measurement temperature with its unit, e.g. "25 degC".',
    'stack_pressure_mpa': 'Stack pressure during the measurement, e.g. "3.2 MPa" (or "< 0.2 MPa" for an upper bound).',
    'stack_pressure_bound': 'How the stack pressure is known: exact, upper or approximate (set by "< 0.2 MPa" too).',
    'atmosphere': 'Atmosphere, e.g. argon.',
    'cycle_index': 'State label: measured after this cycle.',
    'upper_cutoff_v': 'State label: upper cut-off voltage, e.g. "4.15 V".',
    'lower_cutoff_v': 'Lower cut-off voltage, e.g. "2.5 V".',
    'time_since_assembly_h': 'State label: time since assembly, e.g. "12 h".',
    'c_rate': 'C-rate of the record (a number, e.g. 0.1).',
    'scan_rate_mv_s': 'Scan rate of a voltammogram, e.g. "0.1 mV/s".',
    'state': 'Free state label, e.g. "after formation".',
    'branch': 'Branch of a temperature series: heating or cooling.',
    'instrument': 'Instrument, e.g. "VMP-300 ch. 3".',
    'date': 'Date of the measurement (YYYY-MM-DD).',
    'operator': 'Who measured.',
    'notes': 'Free notes.',
    'label': 'A label of the record.',
}


def condition_flags() -> dict[str, str]:
    """Field of a manifest's measurement entry -> its ``import-file`` option (every condition has one)."""
    from aiida_ssb.model import bare_name
    from aiida_ssb.schemas.measurement import MeasurementConditions

    flags = {name: '--' + bare_name(name).replace('_', '-') for name in MeasurementConditions.model_fields}
    flags.update(
        {
            'label': '--label',
            'technique': '--technique',
            'format': '--file-format',
            'column_map': '--column-map',
            'allow_truncated': '--allow-truncated',
            'cell': '--cell',
            'material': '--material',
            'file': 'FILE',
        }
    )
    return flags


def _condition_options() -> list:
    from typing import Literal, get_args, get_origin

    from aiida_ssb.schemas.measurement import MeasurementConditions

    options = []
    for name, field in MeasurementConditions.model_fields.items():
        flag = condition_flags()[name]
        choices = [arg for arg in get_args(field.annotation) if get_origin(arg) is Literal]
        kind = click.Choice(list(get_args(choices[0]))) if choices else (int if name == 'cycle_index' else None)
        options.append(click.option(flag, name, type=kind, help=_CONDITION_EXAMPLES.get(name, name)))
    options.append(click.option('--label', 'label', help=_CONDITION_EXAMPLES['label']))
    return options


def _conditions(function):
    for option in reversed(_condition_options()):
        function = option(function)
    return function


def _column_map(items: tuple[str, ...]) -> dict | None:
    """``('voltage_v=Ewe/V,V', 'current_ma=2,mA,-1')`` -> a manifest's column_map."""
    if not items:
        return None
    mapping = {}
    for item in items:
        name, _, spec = item.partition('=')
        parts = [part.strip() for part in spec.split(',')]
        if not name.strip() or len(parts) not in (2, 3) or not all(parts):
            raise click.BadParameter(
                f'{item!r}: write NAME=COLUMN,UNIT[,FACTOR], e.g. voltage_v=Ewe/V,V', param_hint='--column-map'
            )
        column: str | int = int(parts[0]) if parts[0].isdigit() else parts[0]
        mapping[name.strip()] = [column, parts[1], *([float(parts[2])] if len(parts) == 3 else [])]
    return mapping


def _entry_error_message(exc, values: dict) -> str:
    """One part per wrong option of import-file, naming the option and the expected form."""
    from aiida_ssb.model import unit_of_field

    flags = condition_flags()
    parts = []
    for field, message, _ in exc.problems:
        flag = flags.get(field, field)
        shown = values.get(field)
        unit = unit_of_field(field)
        if unit and ('needs a unit' in message or 'not a quantity' in message or 'dimension' in message):
            example = _EXAMPLE_QUANTITIES.get(unit, f'1 {unit}')
            message = f'give a quantity with its unit, e.g. {flag} "{example}"'
        parts.append(f'{flag} {shown!r}: {message}' if shown is not None else f'{flag}: {message}')
    return '; '.join(parts)


_EXAMPLE_QUANTITIES = {'degC': '25 degC', 'MPa': '3.2 MPa', 'V': '4.2 V', 'h': '12 h', 'mV/s': '0.1 mV/s'}


@cmd_ssb.command('import-file')
@click.argument('file', type=click.Path(dir_okay=False))
@click.option('--cell', 'cell', help='Sample id of the measured cell.')
@click.option('--material', 'material', help='Sample id of the measured material (instead of a cell).')
@click.option(
    '--technique', help='Expected technique (e.g. impedance, cv, galvanostatic_cycling); detected when omitted.'
)
@click.option('--file-format', help='Force the reader (e.g. biologic-mpt, generic-csv); detected when omitted.')
@click.option(
    '--column-map',
    'column_map',
    multiple=True,
    help='How to read a table we have no reader for (generic-csv): NAME=COLUMN,UNIT[,FACTOR], e.g. '
    '"voltage_v=Ewe/V,V"; COLUMN is a header or a 0-based index. Repeatable (a manifest\'s column_map).',
)
@click.option(
    '--allow-truncated',
    is_flag=True,
    help='Accept a file whose last line was cut while it was written: that line is dropped and the measurement '
    'is flagged (truncated_last_line). In a manifest: allow_truncated: true.',
)
@_conditions
@clean_errors
def cmd_import_file(file, cell, material, technique, file_format, column_map, allow_truncated, **conditions):
    """Add one instrument FILE to an existing cell (or material), with its measurement conditions.

    Every condition of a manifest's measurement entry has an option here (--temperature "25 degC",
    --scan-rate "0.1 mV/s", --c-rate 0.1, --branch heating...); quantities carry their unit.
    """
    from aiida_ssb.importer.measurements import EntryError, import_file

    if (cell is None) == (material is None):
        raise click.UsageError('give exactly one of --cell or --material')
    from aiida_ssb.model import bare_name

    given = {bare_name(name): value for name, value in conditions.items() if value is not None}
    try:
        status, nodes = import_file(
            file,
            cell or material,
            is_cell=cell is not None,
            technique=technique,
            file_format=file_format,
            column_map=_column_map(column_map),
            allow_truncated=allow_truncated,
            **given,
        )
    except EntryError as exc:
        shown = {name: value for name, value in conditions.items() if value is not None}
        raise InputError(_entry_error_message(exc, shown)) from None
    if status == 'unchanged':
        click.echo(f'{file} is already stored for {cell or material}: nothing to do.')
        return
    from aiida_ssb.data.measurements import MeasurementData

    stored = [node for node in nodes if isinstance(node, MeasurementData)]
    if len(stored) == 1:
        node = stored[0]
        what = f'{node.__class__.__name__}<{node.pk}> ({node.technique}, {node.base.attributes.get("n_rows")} rows)'
    else:
        rows = sum(node.base.attributes.get('n_rows') for node in stored)
        what = (
            f'{len(stored)} x {stored[0].__class__.__name__} ({stored[0].technique}, pks {stored[0].pk}-{stored[-1].pk}, '
            f'{rows} rows in all)'
        )
    click.echo(f'Stored {file} for {cell or material}: {what}')


def table_options(example: str):
    """The options shared by the tables: --where, --columns, --sort, --desc, --limit, --format."""
    options = [
        click.option('--where', 'where', multiple=True, help=f'Filter "FIELD OP VALUE", e.g. "{example}"; repeatable.'),
        click.option('--columns', help='Comma-separated columns to show.'),
        click.option('--sort', help='Sort by this column.'),
        click.option('--desc', is_flag=True, help='Sort descending.'),
        click.option('--limit', type=click.IntRange(min=0), help='Show at most this many rows.'),
        click.option(
            '--lineage',
            type=click.Choice(['any', 'nearest']),
            default='any',
            show_default=True,
            help='How a lineage filter reads the history: any upstream step of the kind, or only the nearest one. '
            'A lineage column shows every upstream value nearest first ("30; 90"), with nearest only that one.',
        ),
        click.option(
            '--help-fields',
            is_flag=True,
            help='List every field of the table (kind, unit, meaning), those of this profile included, and exit.',
        ),
        OUTPUT_FORMAT,
    ]

    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


@cmd_ssb.command('samples')
@click.option('--role', help='Only materials with this role (electrolyte, active_material, precursor...).')
@click.option('--campaign', help='Only samples of this campaign (group).')
@table_options('theoretical_density_g_cm3 > 1')
@clean_errors
def cmd_samples(role, campaign, where, columns, sort, desc, limit, lineage, help_fields, output_format):
    """Table of materials (one row per batch), with analysis results of the electrolytes.

    Columns and filters may be record fields, analysis fields (conductivity_25c_s_cm, activation_energy_ev,
    onset_v...) or lineage fields KIND.PARAMETER (--where "ball_milling.duration_min >= 45"). Without
    --columns, the table shows the headline results of the analyses that ran. --help-fields lists every field.
    """
    from aiida_ssb.query.tables import parse_filter, samples

    if help_fields:
        print_fields('samples', output_format)
        return
    frame = samples(
        role=role,
        campaign=campaign,
        filters=[parse_filter(w) for w in where],
        columns=columns.split(',') if columns else None,
        sort=sort,
        descending=desc,
        limit=limit,
        lineage=lineage,
    )
    print_frame(frame, output_format)


def print_fields(table: str, output_format: str) -> None:
    """The fields of a table (kind, unit, meaning), generated from the code and the profile."""
    import pandas as pd

    from aiida_ssb.query.tables import describe_fields

    frame = pd.DataFrame([vars(info) for info in describe_fields(table, profile=True)])
    if output_format == 'table':
        for info in frame.itertuples(index=False):
            unit = f' [{info.unit}]' if info.unit else ''
            click.echo(f'{info.name}{unit}  ({info.kind}): {info.meaning}')
        return
    print_frame(frame, output_format)


@cmd_ssb.command('cells')
@click.option(
    '--cell-format', help='Only cells of this format (full, half, symmetric, blocking_pellet, three_electrode).'
)
@click.option('--campaign', help='Only cells of this campaign (group).')
@click.option('--stack-pressure-min', type=float, help='Stack pressure at least this (MPa).')
@click.option('--stack-pressure-max', type=float, help='Stack pressure at most this (MPa).')
@click.option('--loading-min', type=float, help='Mass loading of active material at least this (mg/cm2).')
@click.option('--loading-max', type=float, help='Mass loading of active material at most this (mg/cm2).')
@click.option('--retention-min', type=float, help='Capacity retention at least this (%) at --at-cycle (or at the end).')
@click.option(
    '--at-cycle',
    type=click.IntRange(min=0),
    help='Cycle of --retention-min: any complete cycle (filters on capacity_retention_percent_at_N; indexed at '
    'cycling.retention_at, by default 10, 20, 50, 100, 150, 200, 300, 400, 500, 800, 1000; read from the '
    'per-cycle table at other cycles).',
)
@click.option('--upper-cutoff-min', type=float, help='Upper cut-off voltage of the cycling at least this (V).')
@click.option('--upper-cutoff-max', type=float, help='Upper cut-off voltage of the cycling at most this (V).')
@table_options('stack_pressure_mpa < 1')
@clean_errors
def cmd_cells(
    cell_format,
    campaign,
    stack_pressure_min,
    stack_pressure_max,
    loading_min,
    loading_max,
    retention_min,
    at_cycle,
    upper_cutoff_min,
    upper_cutoff_max,
    where,
    columns,
    sort,
    desc,
    limit,
    lineage,
    help_fields,
    output_format,
):
    """Table of cells with their derived values and analysis results.

    Filters reach across the provenance graph: analysis results (e.g. --retention-min 80 --at-cycle 100) and
    the parameters of upstream lab steps (--where "electrolyte.ball_milling.duration_min >= 45"). Columns
    may be record, analysis or lineage fields (--columns sample_id,capacity_retention_percent_at_100).
    Without --columns, the table shows the headline results of the analyses that ran. --help-fields lists
    every field.
    """
    from aiida_ssb.query.fields import Filter, parse_filter

    if help_fields:
        print_fields('cells', output_format)
        return
    filters = [parse_filter(w) for w in where]
    retention_field = f'capacity_retention_percent_at_{at_cycle}' if at_cycle else 'capacity_retention_percent_at_end'
    if at_cycle is not None and retention_min is None:
        raise click.UsageError('--at-cycle goes with --retention-min')
    for value, field, operator in (
        (stack_pressure_min, 'stack_pressure_mpa', '>='),
        (stack_pressure_max, 'stack_pressure_mpa', '<='),
        (loading_min, 'mass_loading_mg_cm2', '>='),
        (loading_max, 'mass_loading_mg_cm2', '<='),
        (retention_min, retention_field, '>='),
        (upper_cutoff_min, 'upper_cutoff_v', '>='),
        (upper_cutoff_max, 'upper_cutoff_v', '<='),
    ):
        if value is not None:
            filters.append(Filter(field, operator, value))
    from aiida_ssb.query.fast import cells_table

    fast = None
    if lineage == 'any':
        fast = cells_table(
            cell_format=cell_format,
            campaign=campaign,
            filters=filters,
            columns=columns.split(',') if columns else None,
            sort=sort,
            descending=desc,
            limit=limit,
        )
    if fast is not None and (fast[1] or at_cycle is None):  # one SQL query, no ORM, no pandas
        print_rows(*fast, output_format)
        return
    from aiida_ssb.query.tables import cells

    frame = cells(
        cell_format=cell_format,
        campaign=campaign,
        filters=filters,
        columns=columns.split(',') if columns else None,
        sort=sort,
        descending=desc,
        limit=limit,
        lineage=lineage,
    )
    print_frame(frame, output_format)
    if at_cycle is not None and frame.empty:
        reached = cells(cell_format=cell_format, campaign=campaign, columns=['sample_id', retention_field])
        if reached[retention_field].isna().all():
            click.echo(f'No analysed cell has a complete cycle {at_cycle}, so none has {retention_field}.', err=True)


@cmd_ssb.command('show')
@click.argument('sample_id')
@clean_errors
def cmd_show(sample_id):
    """Show a sample: its attributes, its history back to the purchased materials, and its measurements."""
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.query.history import format_value, history, render_history

    node = load_sample(sample_id)
    attributes = node.base.attributes.all
    click.secho(f'{sample_id}  ({node.__class__.__name__}, pk {node.pk}, uuid {node.uuid})', bold=True)
    derived = set(attributes.get('derived_keys', [])) - {'flags'}
    skip = {'sample_id', 'layers', 'derived_keys', 'nominal_composition', 'composition_flat', 'fabrication', 'flags'}
    for key in sorted(k for k in attributes if k not in skip and k not in derived):
        click.echo(f'  {key:<32} {_show_value(attributes[key])}')
    if derived:
        click.secho('Derived', bold=True)
        for key in sorted(derived):
            click.echo(f'  {key:<32} {_show_value(attributes[key])}')
    for key in ('nominal_composition', 'composition_flat'):
        if attributes.get(key):
            click.secho(key.replace('_', ' ').capitalize(), bold=True)
            for item in attributes[key]:
                click.echo(
                    f'  {item["material"]:<24} {item["fraction"] * 100:7.3f} {item.get("basis", "") or ""}%  {item.get("role", "")}'
                )
    if attributes.get('layers'):
        click.secho('Layers', bold=True)
        for layer in attributes['layers']:
            bits = [format_value(k, v) for k, v in layer.items() if k not in ('role', 'material')]
            click.echo(f'  {layer["role"]:<18} {layer["material"]:<16} ' + ', '.join(bits))
    if attributes.get('fabrication'):
        click.secho('Fabrication', bold=True)
        for step in attributes['fabrication']:
            click.echo('  ' + ', '.join(format_value(k, v) for k, v in step.items()))
    click.secho('History', bold=True)
    for line in render_history(history(node)):
        click.echo('  ' + line)
    index = node.base.extras.get('ssb', None)
    if index:
        click.secho('Analysis results (latest; aiida-ssb compare shows earlier ones)', bold=True)
        for key in sorted(k for k in index if k not in ('sources', 'summary_uuid', 'indexed_unix_s')):
            value = index[key]
            if value is not None and not isinstance(value, (dict, list)):
                click.echo(f'  {key:<44} {_show_value(value)}')
    flags = [dict(item, source='record') for item in attributes.get('flags') or []]
    flags += [item for item in (index or {}).get('flags') or [] if item.get('source') != 'cell record']
    if flags:
        click.secho('Flags (plausibility checks; they never change a number)', bold=True)
        for item in flags:
            click.echo(f'  {item["flag"]:<36} [{item.get("source", "")}] {item.get("reason", "")}')
    _show_options(node)
    _show_amendments(node)
    _show_records(node)


def _show_options(node) -> None:
    """The analysis options of the cell's next run, with where each comes from."""
    from aiida_ssb.workflows.options import cell_options, option_sources

    options = cell_options(node)
    if not options:
        return
    sources = option_sources(node)
    click.secho('Analysis options (used by the next analyse; reanalyse --set changes them)', bold=True)
    for section, values in sorted(options.items()):
        for key, value in sorted(values.items()):
            shown = '(default)' if value is None else json.dumps(value)
            click.echo(
                f'  {section + "." + key:<44} {shown}  [{sources.get(f"{section}.{key}", "stored on the cell")}]'
            )


def _show_amendments(node) -> None:
    from aiida_ssb.query.records import amendments_of

    amendments = amendments_of(node)
    if not amendments:
        return
    click.secho(f'Amendments (this is version {len(amendments) + 1}; earlier versions are kept, superseded)', bold=True)
    for item in amendments:
        click.echo(
            f'  {item["ctime"]:%Y-%m-%d %H:%M} amendment<{item["pk"]}> of version pk {item["previous_pk"]}: '
            f'{"; ".join(item["changes"])} (reason: {item["reason"]})'
        )


def _show_records(node) -> None:
    """Every record of the sample, numbered as `plot --record N` takes them, with the one each family of headline
    numbers comes from."""
    from aiida_ssb.query.history import format_value, record_rows

    headline = _headline_records(node)
    rows = record_rows(node)
    click.secho('Measurements (plot --record N or FILE chooses one)', bold=True)
    if not rows:
        click.echo('  (none)')
    number = 0
    for row in rows:
        condition_text = ', '.join(format_value(k, v) for k, v in row.conditions.items())
        kinds = sorted({f'{name} ({technique or "?"})' for _, name, technique in row.records})
        first = number + 1
        number += len(row.records)
        numbers = f'#{first}' if len(row.records) == 1 else f'#{first}-{number}'
        count = f'{len(row.records)} x ' if len(row.records) > 1 else ''
        marks = sorted({name for pk, _, _ in row.records for name in headline.get(pk, ())})
        click.echo(
            f'  {numbers:<7} {row.filename or "?"}: {count}{", ".join(kinds)}'
            + (f'  [{condition_text}]' if condition_text else '')
            + (f'  <- headline {", ".join(marks)}' if marks else '')
        )


def _headline_records(node) -> dict[int, set[str]]:
    """Record pk -> the analyses whose headline numbers come from it (through the latest cell summary's sources)."""
    from aiida import orm

    from aiida_ssb.query.results import process_record

    index = node.base.extras.get('ssb', None) or {}
    found: dict[int, set[str]] = {}
    try:
        sources: dict[str, str] = (
            orm.load_node(index['summary_uuid']).base.attributes.get('sources', None) or {}
            if index.get('summary_uuid')
            else {}
        )
    except Exception:
        sources = {}
    for uuid in set(sources.values()):
        try:
            summary = orm.load_node(uuid)
        except Exception:
            continue
        record = process_record(summary.creator) if summary.creator is not None else None
        if record is not None:
            found.setdefault(record.pk, set()).add(summary.base.attributes.get('analysis', '?'))
    return found


def _show_value(value) -> str:
    if isinstance(value, float):
        return f'{value:.6g}'
    return str(value)


@cmd_ssb.command('amend')
@click.argument('sample_id')
@click.option(
    '--set',
    'settings',
    multiple=True,
    required=True,
    help='A correction FIELD=VALUE of the cell record, e.g. layers[1].mass_mg=9.5 or "layers[1].mass=9.5 mg" '
    '(layers counted from 0, as `aiida-ssb show` lists them); VALUE is YAML; an empty VALUE removes the field. '
    'Repeatable.',
)
@click.option('--reason', required=True, help='Why the record is corrected (stored with the correction).')
@click.option('--dry-run', is_flag=True, help='Only show what would change.')
@clean_errors
def cmd_amend(sample_id, settings, reason, dry_run):
    """Correct a stored cell record (a mistyped mass, thickness, pressure...) by a new version of it.

    The old version stays in the graph, with everything measured and analysed on it, marked superseded; the new
    version (same sample id) is made from it by an `amendment` step that stores the changes and the reason, and
    it is the one the tables, `show` and `analyse` use. Its derived values follow at once; run `aiida-ssb analyse
    SAMPLE_ID` for its analysis results. Correct the manifest too, so that importing it again finds no
    difference.
    """
    import yaml

    from aiida_ssb.importer.amend import amend_cell

    changes = []
    for setting in settings:
        path, equals, raw = setting.partition('=')
        if not equals or not path.strip():
            raise InputError(f'cannot read --set {setting!r}: write FIELD=VALUE, e.g. layers[1].mass_mg=9.5')
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        changes.append((path.strip(), value))
    outcome = amend_cell(sample_id, changes, reason, dry_run=dry_run)
    if dry_run:
        click.echo(f'Would amend {sample_id} (nothing was stored):')
        for line in outcome:
            click.echo(f'  {line}')
        return
    click.echo(
        f'Amended {sample_id}: CellData<{outcome.cell.pk}> supersedes CellData<{outcome.previous.pk}> (kept in the '
        f'graph, marked superseded), by amendment<{outcome.process.pk}>:'
    )
    for line in outcome.changes:
        click.echo(f'  {line}')
    click.echo(f'Reason: {outcome.reason}')
    from aiida_ssb.data.index import latest_cell_summary

    if latest_cell_summary(outcome.previous) is not None:
        click.echo(
            f'Its analysis results were computed from the old values: run `aiida-ssb analyse {sample_id}` to '
            'compute them from the corrected record.'
        )
