"""Base of the suite's Excel reports and of the wizards that export them.

A report subclass says which columns it has and yields rows; this base
writes them with xlsxwriter in constant-memory mode (rows are flushed as
they are written, so a million-row export does not hold the sheet in
memory), with a title row naming the filters used, a frozen bold header
row, an autofilter and number/date formats per column type.

The list exports (subscribers, arrears) share the rest: a filter form
whose fields become the report data, a domain built from those filters,
and records read a thousand at a time.
"""
import datetime as dt
import os
import tempfile
from decimal import Decimal

import xlsxwriter

from trytond.i18n import gettext
from trytond.model import ModelView
from trytond.pool import Pool
from trytond.report import Report
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, Wizard

from .money import XLSX_MONEY, XLSX_RATE

FONT = {'font_name': 'Microsoft YaHei', 'font_size': 10}
BATCH = 1000


class Column:
    "One column: header label, value getter, type and width"

    def __init__(self, label, getter, type_='text', width=14):
        self.label = label
        self.getter = getter
        self.type = type_
        self.width = width


class XlsxReport(Report):
    "Report producing an .xlsx workbook instead of an ODF document"
    # the ir.message of the title
    title_message = None

    @classmethod
    def title(cls, data):
        return gettext(cls.title_message)

    @classmethod
    def columns(cls, data):
        "List of Column"
        raise NotImplementedError

    @classmethod
    def rows(cls, records, data):
        "Iterable of source objects, each turned into one row by the getters"
        raise NotImplementedError

    @classmethod
    def filters(cls, data):
        "List of (label, value) describing the filters used"
        return []

    @classmethod
    def _execute(cls, records, header, data, action):
        fd, path = tempfile.mkstemp(suffix='.xlsx', prefix='crm-')
        os.close(fd)
        try:
            cls.write_workbook(path, records, data)
            with open(path, 'rb') as file:
                return 'xlsx', file.read()
        finally:
            os.unlink(path)

    @classmethod
    def write_workbook(cls, path, records, data):
        workbook = xlsxwriter.Workbook(path, {
                'constant_memory': True,
                'tmpdir': tempfile.gettempdir(),
                'default_date_format': 'yyyy-mm-dd',
                'strings_to_numbers': False,
                'strings_to_formulas': False,
                })
        try:
            cls._write_sheet(workbook, records, data)
        finally:
            workbook.close()

    @classmethod
    def formats(cls, workbook):
        "The cell formats of the suite's workbooks, by name"
        specs = {
            'text': {},
            'wrap': {'text_wrap': True, 'valign': 'top'},
            'integer': {'num_format': '0'},
            'money': {'num_format': XLSX_MONEY},
            'rate': {'num_format': XLSX_RATE},
            'date': {'num_format': 'yyyy-mm-dd'},
            'datetime': {'num_format': 'yyyy-mm-dd hh:mm'},
            'label': {'bold': True},
            'title': {'bold': True, 'font_size': 12},
            'header': {'bold': True, 'bg_color': '#DCE6F1', 'border': 1,
                'text_wrap': True},
            }
        return {name: workbook.add_format({**FONT, **spec})
            for name, spec in specs.items()}

    @classmethod
    def write_title(cls, sheet, data, formats):
        """The title (with the filters used) and when it was generated;
        returns the first free row"""
        filters = '; '.join('%s: %s' % (k, v)
            for k, v in cls.filters(data) if v not in (None, '', []))
        title = cls.title(data)
        if filters:
            title += ' (%s)' % filters
        sheet.write_string(0, 0, title, formats['title'])
        sheet.write_string(1, 0, gettext('crm_telecom.msg_xlsx_generated',
                date=dt.datetime.now().strftime('%Y-%m-%d %H:%M')),
            formats['text'])
        return 2

    @classmethod
    def write_header(cls, sheet, row, columns, formats):
        for col, column in enumerate(columns):
            sheet.write_string(row, col, column.label, formats['header'])

    @classmethod
    def write_row(cls, sheet, row, columns, source, formats):
        for col, column in enumerate(columns):
            cls._write_cell(sheet, row, col, column.getter(source),
                formats[column.type])

    @classmethod
    def _write_sheet(cls, workbook, records, data):
        formats = cls.formats(workbook)
        sheet = workbook.add_worksheet(cls.sheet_name(data))
        columns = cls.columns(data)
        for col, column in enumerate(columns):
            sheet.set_column(col, col, column.width)
        header_row = cls.write_title(sheet, data, formats)
        cls.write_header(sheet, header_row, columns, formats)
        row = header_row
        for row, source in enumerate(cls.rows(records, data), header_row + 1):
            cls.write_row(sheet, row, columns, source, formats)
        sheet.freeze_panes(header_row + 1, 0)
        sheet.autofilter(header_row, 0, max(row, header_row + 1),
            len(columns) - 1)

    @classmethod
    def _write_cell(cls, sheet, row, col, value, format_):
        if value is None or value == '':
            sheet.write_blank(row, col, None, format_)
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value, format_)
        elif isinstance(value, (int, float, Decimal)):
            sheet.write_number(row, col, float(value), format_)
        elif isinstance(value, dt.datetime):
            sheet.write_datetime(row, col, value, format_)
        elif isinstance(value, dt.date):
            sheet.write_datetime(row, col,
                dt.datetime.combine(value, dt.time()), format_)
        else:
            sheet.write_string(row, col, str(value), format_)

    @classmethod
    def sheet_name(cls, data):
        # Excel limits sheet names to 31 characters
        return cls.title(data)[:31]


class ExportFilter(ModelView):
    "Filter form of a list export: its fields become the report data"
    __slots__ = ()

    def report_data(self):
        "Records as ids and dates as ISO text: the data travels as JSON"
        data = {}
        for name, field in self._fields.items():
            if name == 'id':
                continue
            value = getattr(self, name, None)
            if field._type == 'many2one':
                value = value.id if value else None
            elif isinstance(value, dt.date):
                value = value.isoformat()
            data[name] = value
        return data


def export_buttons():
    "The buttons of the filter form of a list export"
    return [
        Button("Cancel", 'end', 'tryton-cancel'),
        Button("Export", 'export', 'tryton-ok', default=True),
        ]


class ExportWizard(Wizard):
    """Filter form, then the list report: subclasses define the states
    start (a StateView of an ExportFilter) and export (a StateReport)"""

    def do_export(self, action):
        return action, self.start.report_data()


class XlsxListReport(XlsxReport):
    """Records of one model, filtered by the export wizard or printed from
    the list, read a thousand at a time (with the user's access rules, so
    that masked fields stay masked) and flattened into rows."""
    # the listed model, its fields read per batch (dotted paths allowed)
    # and the order of the rows when the filters choose them
    model = None
    read_fields = []
    order = [('id', 'ASC')]
    # the filter form and, per filter field, the (field path, operator)
    # it searches with, in the order the title names them
    filter_model = None
    filter_domain = {}

    @classmethod
    def base_domain(cls, data):
        "What every row of the list has in common"
        return []

    @classmethod
    def domain(cls, data):
        domain = cls.base_domain(data)
        for name, (path, operator) in cls.filter_domain.items():
            value = data.get(name)
            if value in (None, ''):
                continue
            if operator == 'child_of':
                domain.append((path, operator, [value], 'parent'))
            else:
                domain.append((path, operator, value))
        return domain

    @classmethod
    def filters(cls, data):
        pool = Pool()
        Filter = pool.get(cls.filter_model)
        definitions = Filter.fields_get(list(cls.filter_domain))
        result = []
        for name in cls.filter_domain:
            value = data.get(name)
            if value in (None, ''):
                continue
            definition = definitions[name]
            if definition['type'] == 'many2one':
                value = pool.get(definition['relation'])(value).rec_name
            elif definition['type'] == 'selection':
                value = dict(definition['selection']).get(value, value)
            result.append((definition['string'], value))
        return result

    @classmethod
    def field_column(cls, path, type_='text', width=14, label=None):
        """A column showing a field of read_fields ('a.b' paths too),
        labelled like the listed model's field, selections by their label"""
        pool = Pool()
        names = path.split('.')
        definition = pool.get(cls.model).fields_get([names[0]])[names[0]]
        label = label or definition['string']
        for name in names[1:]:
            Target = pool.get(definition['relation'])
            definition = Target.fields_get([name])[name]
        if definition['type'] == 'selection':
            selection = dict(definition['selection'])
            return Column(label, lambda r: selection.get(r.get(path)),
                type_, width)
        return Column(label, lambda r: r.get(path), type_, width)

    @classmethod
    def rows(cls, records, data):
        Model = Pool().get(cls.model)
        if records:
            ids = [r.id for r in records]
        else:
            ids = [r.id for r in Model.search(
                    cls.domain(data), order=cls.order)]
        with Transaction().set_context(_check_access=True):
            for sub_ids in grouped_slice(ids, BATCH):
                yield from cls.batch_rows(list(sub_ids))

    @classmethod
    def batch_rows(cls, ids):
        "The rows of a batch of records, in the order of the ids"
        Model = Pool().get(cls.model)
        rows = {r['id']: cls._flatten(r)
            for r in Model.read(ids, cls.read_fields)}
        return [rows[i] for i in ids]

    @classmethod
    def _flatten(cls, row):
        "read() nests dotted paths as dicts: turn them into 'a.b' keys"
        flat = dict(row)
        for path in cls.read_fields:
            if '.' in path:
                head, tail = path.split('.', 1)
                value = row.get(head + '.')
                flat[path] = value.get(tail) if value else None
        return flat
