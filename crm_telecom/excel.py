"""Base of the suite's Excel reports.

A report subclass says which columns it has and yields rows; this base
writes them with xlsxwriter in constant-memory mode (rows are flushed as
they are written, so a million-row export does not hold the sheet in
memory), with a title row naming the filters used, a frozen bold header
row, an autofilter and number/date formats per column type.
"""
import datetime as dt
import os
import tempfile
from decimal import Decimal

import xlsxwriter

from trytond.i18n import gettext
from trytond.report import Report


class Column:
    "One column: header label, value getter, type and width"

    def __init__(self, label, getter, type_='text', width=14):
        self.label = label
        self.getter = getter
        self.type = type_
        self.width = width


class XlsxReport(Report):
    "Report producing an .xlsx workbook instead of an ODF document"

    @classmethod
    def title(cls, data):
        raise NotImplementedError

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
    def _write_sheet(cls, workbook, records, data):
        font = {'font_name': 'Microsoft YaHei', 'font_size': 10}
        formats = {
            'text': workbook.add_format(font),
            'integer': workbook.add_format({**font, 'num_format': '0'}),
            'money': workbook.add_format({**font, 'num_format': '#,##0.00'}),
            'date': workbook.add_format({**font, 'num_format': 'yyyy-mm-dd'}),
            'datetime': workbook.add_format(
                {**font, 'num_format': 'yyyy-mm-dd hh:mm'}),
            }
        title_format = workbook.add_format(
            {**font, 'bold': True, 'font_size': 12})
        header_format = workbook.add_format({**font, 'bold': True,
                'bg_color': '#DCE6F1', 'border': 1, 'text_wrap': True})
        sheet = workbook.add_worksheet(cls.sheet_name(data))
        columns = cls.columns(data)

        filters = '; '.join('%s: %s' % (k, v)
            for k, v in cls.filters(data) if v not in (None, '', []))
        title = cls.title(data)
        if filters:
            title += ' (%s)' % filters
        sheet.write_string(0, 0, title, title_format)
        sheet.write_string(1, 0, gettext('crm_telecom.msg_xlsx_generated',
                date=dt.datetime.now().strftime('%Y-%m-%d %H:%M')),
            formats['text'])
        header_row = 2
        for col, column in enumerate(columns):
            sheet.set_column(col, col, column.width)
            sheet.write_string(header_row, col, column.label, header_format)
        row = header_row
        for row, source in enumerate(cls.rows(records, data), header_row + 1):
            for col, column in enumerate(columns):
                cls._write_cell(sheet, row, col, column.getter(source),
                    formats[column.type])
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
