"""Sphinx directive ``.. ssb-schema:: dotted.path.Model``: a table of a schema's fields.

The manifest reference is generated from the pydantic models themselves, so it cannot drift from the code:
each row gives the name to write in a manifest (with its unit, converted from any pint unit), the stored
attribute name, the allowed values or bounds, and the description.
"""

from __future__ import annotations

import importlib
import re
import typing

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList


def _type_text(annotation) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union or str(origin) == 'types.UnionType':
        parts = [_type_text(a) for a in args if a is not type(None)]
        return ' or '.join(parts)
    if origin is typing.Literal:
        return ' | '.join(f'``{a}``' for a in args)
    if origin is list:
        return f'list of {_type_text(args[0])}' if args else 'list'
    if origin is dict:
        return 'mapping'
    if origin is typing.Annotated:
        return _type_text(args[0])
    name = getattr(annotation, '__name__', str(annotation))
    return {'str': 'text', 'float': 'number', 'int': 'integer', 'bool': 'true/false'}.get(name, name)


def _bounds(info) -> str:
    bits = []
    for item in info.metadata:
        for attr, symbol in (('gt', '>'), ('ge', '>='), ('lt', '<'), ('le', '<=')):
            value = getattr(item, attr, None)
            if value is not None:
                bits.append(f'{symbol} {value:g}')
    return ', '.join(bits)


class SchemaDirective(Directive):
    required_arguments = 1
    has_content = False

    def run(self):
        from aiida_ssb.schemas.base import bare_name, unit_of_field

        module_name, _, class_name = self.arguments[0].rpartition('.')
        model = getattr(importlib.import_module(module_name), class_name)
        lines = [
            '.. list-table::',
            '   :header-rows: 1',
            '   :widths: 22 12 26 40',
            '',
            '   * - written as',
            '     - unit',
            '     - value',
            '     - meaning',
        ]
        hidden = getattr(model, 'unitless', frozenset())
        for name, info in model.model_fields.items():
            unit = None if name in hidden else unit_of_field(name)
            written = f'``{bare_name(name)}`` (or ``{name}``)' if unit else f'``{name}``'
            alias = info.validation_alias
            if alias is not None and hasattr(alias, 'choices'):
                others = [c for c in alias.choices if c != name]
                if others:
                    written += ' (or ' + ', '.join(f'``{c}``' for c in others) + ')'
            if info.is_required():
                written += ' **required**'
            value = _type_text(info.annotation)
            bounds = _bounds(info)
            if bounds:
                value += f' ({bounds})'
            description = _escape((info.description or '').replace('\n', ' '))
            lines += [f'   * - {written}', f'     - {unit or ""}', f'     - {value}', f'     - {description}']
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=''), self.content_offset, container)
        doc = (model.__doc__ or '').strip()
        result = []
        if doc:
            paragraph = nodes.paragraph()
            self.state.nested_parse(StringList([' '.join(doc.split())], source=''), self.content_offset, paragraph)
            result.extend(paragraph.children)
        result.extend(container.children)
        return result


def _escape(text: str) -> str:
    """Plain text for RST: ``|V|`` must not read as a substitution, ``*`` not as emphasis, ``name_`` not as a
    link."""
    return re.sub(r'(\w)_(?=\W|$)', r'\1\\_', text.replace('|', '\\|').replace('*', '\\*'))


def _table(directive: Directive, headers: list[str], rows: list[list[str]], widths: str) -> list:
    lines = ['.. list-table::', '   :header-rows: 1', f'   :widths: {widths}', '']
    lines.append('   * - ' + headers[0])
    lines.extend(f'     - {header}' for header in headers[1:])
    for row in rows:
        lines.append(f'   * - {row[0]}')
        lines.extend(f'     - {cell}' for cell in row[1:])
    container = nodes.container()
    directive.state.nested_parse(StringList(lines, source=''), directive.content_offset, container)
    return list(container.children)


class FieldsDirective(Directive):
    """``.. ssb-fields:: cells`` (or ``samples``): every field of a table with its kind, unit and meaning, from
    :func:`aiida_ssb.query.tables.describe_fields` (the same list ``aiida-ssb cells --help-fields`` prints)."""

    required_arguments = 1

    def run(self):
        from aiida_ssb.query.tables import describe_fields

        rows = [
            [f'``{info.name}``', info.kind, _escape(info.unit), _escape(info.meaning)]
            for info in describe_fields(self.arguments[0])
        ]
        return _table(self, ['field', 'kind', 'unit', 'meaning'], rows, '32 10 12 46')


class PerRecordDirective(Directive):
    """``.. ssb-per-record:: cycles|spectra|cellpy``: the columns of the per-cycle or per-spectrum table, or our
    per-cycle names beside cellpy's (from :mod:`aiida_ssb.query.per_record`)."""

    required_arguments = 1

    def run(self):
        from aiida_ssb.query.per_record import CELLPY_NAMES, CYCLE_COLUMNS, SPECTRUM_COLUMNS
        from aiida_ssb.query.tables import field_unit

        if self.arguments[0] == 'cellpy':
            rows = [[f'``{ours}``', f'``{theirs}``'] for ours, theirs in CELLPY_NAMES.items()]
            return _table(self, ['aiida-ssb column', 'cellpy summary column'], rows, '50 50')
        columns = CYCLE_COLUMNS if self.arguments[0] == 'cycles' else SPECTRUM_COLUMNS
        rows = [[f'``{name}``', _escape(field_unit(name) or ''), _escape(meaning)] for name, meaning in columns.items()]
        return _table(self, ['column', 'unit', 'meaning'], rows, '35 12 53')


class AnalysisOptionsDirective(Directive):
    """``.. ssb-analysis-options:: NAME``: the settings of one analysis of the registry, from its settings type
    (:meth:`~aiida_ssb.analysis.settings.Settings.option_table`): name, unit, default, meaning."""

    required_arguments = 1

    def run(self):
        from aiida_ssb.analysis.registry import get_analysis
        from aiida_ssb.model import bare_name

        spec = get_analysis(self.arguments[0])
        rows = []
        for row in spec.settings.option_table():
            written = f'``{row.name}``' + (f' (or ``{bare_name(row.name)}`` with a unit)' if row.unit else '')
            rows.append([written, row.unit, f'``{row.default}``', _escape(row.description)])
        intro = nodes.paragraph()
        aliases = f' (formerly also: {", ".join(f"``{a}``" for a in spec.aliases)})' if spec.aliases else ''
        text = f'Section ``{spec.name}``{aliases}: {_escape(spec.summary)}. Settings type :class:`{spec.settings_path.replace(":", ".")}`.'
        self.state.nested_parse(StringList([text], source=''), self.content_offset, intro)
        return [*intro.children, *_table(self, ['setting', 'unit', 'default', 'meaning'], rows, '28 10 20 42')]


class CircuitsDirective(Directive):
    """``.. ssb-circuits::``: the candidate circuits of the automatic choice per cell format."""

    def run(self):
        from aiida_ssb.workflows.steps import CANDIDATE_FAMILIES

        rows = [
            [f'``{fmt}``', ', '.join(f'``{circuit}``' for circuit in family)]
            for fmt, family in CANDIDATE_FAMILIES.items()
        ]
        return _table(self, ['cell format', 'candidate circuits'], rows, '20 80')


class HeadlineDirective(Directive):
    """``.. ssb-headline::``: the headline numbers of a cell summary."""

    def run(self):
        from aiida_ssb.calculations.summary import HEADLINE_FIELDS

        rows = [[f'``{name}``', _escape(description)] for name, description in HEADLINE_FIELDS.items()]
        return _table(self, ['headline number', 'meaning'], rows, '40 60')


class CountingDirective(Directive):
    """``.. ssb-counting:: kinds|chemistries|flags|mass-bases``: the cell kinds with their conventions, the
    electrode chemistries, the plausibility flags, the mass bases (from the code, so they cannot drift)."""

    required_arguments = 1

    def run(self):
        from aiida_ssb.analysis.cycling import CELL_KINDS, CHEMISTRIES, FLAGS, KIND_CONVENTIONS, MASS_BASES
        from aiida_ssb.analysis.cycling.conventions import COUNTER_POTENTIALS_V
        from aiida_ssb.calculations.record import MATERIAL_FLAGS
        from aiida_ssb.schemas.cell import CELL_FLAGS

        which = self.arguments[0]
        if which == 'kinds':
            rows = []
            for kind, meaning in CELL_KINDS.items():
                c = KIND_CONVENTIONS[kind]
                ce = c.ce_convention.replace('_over_', ' / ')
                rows.append(
                    [
                        f'``{kind}``',
                        _escape(meaning),
                        c.first_half,
                        ce,
                        c.capacity_electrode or '-',
                        c.c_rate_electrode or '-',
                    ]
                )
            return _table(
                self, ['kind', 'what it is', 'first half', 'CE', 'capacity on', 'C-rate on'], rows, '16 36 10 18 10 10'
            )
        if which == 'chemistries':
            rows = [
                [
                    f'``{formula}``',
                    _escape(chemistry.name),
                    chemistry.electrode,
                    ', '.join(f'{ion}: {low:g}-{high:g} V' for ion, (low, high) in chemistry.windows_v.items()),
                ]
                for formula, chemistry in CHEMISTRIES.items()
            ]
            rows += [
                [f'``{formula}``', 'alloy counter electrode', '-', f'{value:g} V vs its metal']
                for formula, value in COUNTER_POTENTIALS_V.items()
            ]
            return _table(
                self, ['formula', 'material', 'electrode', 'average discharge potential'], rows, '22 28 14 36'
            )
        if which == 'flags':
            rows = [
                [f'``{name}``', 'analysis (cycling)', severity, _escape(text)]
                for name, (severity, text) in FLAGS.items()
            ]
            rows += [
                [f'``{name}``', 'cell record', severity, _escape(text)] for name, (severity, text) in CELL_FLAGS.items()
            ]
            rows += [
                [f'``{name}``', 'material record', severity, _escape(text)]
                for name, (severity, text) in MATERIAL_FLAGS.items()
            ]
            return _table(self, ['flag', 'stored on', 'severity', 'meaning and threshold'], rows, '26 14 10 50')
        rows = [[f'``{name}``', _escape(text)] for name, text in MASS_BASES.items()]
        return _table(self, ['basis', 'mass'], rows, '20 80')


def setup(app):
    app.add_directive('ssb-counting', CountingDirective)
    app.add_directive('ssb-schema', SchemaDirective)
    app.add_directive('ssb-fields', FieldsDirective)
    app.add_directive('ssb-per-record', PerRecordDirective)
    app.add_directive('ssb-circuits', CircuitsDirective)
    app.add_directive('ssb-analysis-options', AnalysisOptionsDirective)
    app.add_directive('ssb-headline', HeadlineDirective)
    return {'parallel_read_safe': True}
