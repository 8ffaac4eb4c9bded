"""Commands for records: ``import``, ``import-file``, ``samples``, ``cells``, ``show``."""

from __future__ import annotations

import click

from aiida_ssb.cli.root import cmd_ssb
from aiida_ssb.cli.utils import OUTPUT_FORMAT, clean_errors, print_frame, print_rows


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


_CONDITION_OPTIONS = [
    click.option('--temperature', help='Measurement temperature, e.g. "25 degC".'),
    click.option('--stack-pressure', help='Stack pressure during the measurement, e.g. "3.2 MPa".'),
    click.option('--atmosphere', help='Atmosphere, e.g. argon.'),
    click.option('--cycle-index', type=int, help='State label: measured after this cycle.'),
    click.option('--upper-cutoff', help='State label: upper cut-off voltage, e.g. "4.15 V".'),
    click.option('--time-since-assembly', help='State label: time since assembly, e.g. "12 h".'),
    click.option('--state', help='Free state label, e.g. "after formation".'),
    click.option('--notes', help='Free notes.'),
]


def _conditions(function):
    for option in reversed(_CONDITION_OPTIONS):
        function = option(function)
    return function


@cmd_ssb.command('import-file')
@click.argument('file', type=click.Path(dir_okay=False))
@click.option('--cell', 'cell', help='Sample id of the measured cell.')
@click.option('--material', 'material', help='Sample id of the measured material (instead of a cell).')
@click.option(
    '--technique', help='Expected technique (e.g. impedance, cv, galvanostatic_cycling); detected when omitted.'
)
@click.option('--file-format', help='Force the reader (e.g. biologic-mpt, generic-csv); detected when omitted.')
@click.option(
    '--allow-truncated',
    is_flag=True,
    help='Accept a file whose last line was cut while it was written: that line is dropped and the measurement '
    'is flagged (truncated_last_line).',
)
@_conditions
@clean_errors
def cmd_import_file(
    file,
    cell,
    material,
    technique,
    file_format,
    allow_truncated,
    temperature,
    stack_pressure,
    atmosphere,
    cycle_index,
    upper_cutoff,
    time_since_assembly,
    state,
    notes,
):
    """Add one instrument FILE to an existing cell (or material), with its measurement conditions."""
    from aiida_ssb.importer.measurements import import_file

    if (cell is None) == (material is None):
        raise click.UsageError('give exactly one of --cell or --material')
    conditions = {
        'temperature': temperature,
        'stack_pressure': stack_pressure,
        'atmosphere': atmosphere,
        'cycle_index': cycle_index,
        'upper_cutoff': upper_cutoff,
        'time_since_assembly': time_since_assembly,
        'state': state,
        'notes': notes,
    }
    status, nodes = import_file(
        file,
        cell or material,
        is_cell=cell is not None,
        technique=technique,
        file_format=file_format,
        allow_truncated=allow_truncated,
        **{k: v for k, v in conditions.items() if v is not None},
    )
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
    from aiida_ssb.query.fast import stored_sample

    stored = stored_sample(sample_id)  # plain SQL, no ORM: the same nodes, read as rows
    if stored is None:
        from aiida_ssb.data.sample import load_sample
        from aiida_ssb.query.history import measurements_of

        node = load_sample(sample_id)
        _show(sample_id, node, measurements_of(node))
        return
    node, measured, graph = stored
    try:
        _show(sample_id, node, measured)
    finally:
        graph.close()


def _show(sample_id, node, measured) -> None:
    """Print a sample (an ORM node or the same node read as a row by :mod:`aiida_ssb.query.fast`)."""
    from aiida_ssb.query.history import format_value, history, render_history

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
    click.secho('Measurements', bold=True)
    if not measured:
        click.echo('  (none)')
    for process, outputs in measured:
        raw = process.inputs.raw if 'raw' in process.inputs else None
        conditions = process.inputs.conditions.get_dict() if 'conditions' in process.inputs else {}
        condition_text = ', '.join(format_value(k, v) for k, v in conditions.items())
        kinds = sorted({f'{n.__class__.__name__} ({n.base.attributes.get("technique", "?")})' for n in outputs})
        count = f'{len(outputs)} x ' if len(outputs) > 1 else ''
        click.echo(
            f'  {raw.filename if raw else "?"}: {count}{", ".join(kinds)}'
            + (f'  [{condition_text}]' if condition_text else '')
        )


def _show_value(value) -> str:
    if isinstance(value, float):
        return f'{value:.6g}'
    return str(value)
