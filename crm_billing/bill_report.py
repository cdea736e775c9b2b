"""The bill as the customer receives it, and as analysts export it.

BillReport renders the template bill.fodt (an ODT administrators may
replace in the client): header, every line with its explanation, total
and the account balance, one page per bill in the payer's language.

BillXlsx writes one sheet; each bill is a section: a header block (code,
account, payer, period, dates, total), then one row per bill line with
the plain-language reason it was charged, then the bill's total. Printing
several bills puts their sections one below the other and ends with the
total of them all."""
import re
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.report import Report
from trytond.tools import grouped_slice

from crm_telecom.excel import FONT, Column, XlsxReport
from crm_telecom.money import XLSX_MONEY, format_money

from .bill import FEE_KINDS

# kinds whose quantities are usage counted in minutes, messages or KB
USAGE_TYPES = {'voice', 'sms', 'data'}
SECTION_GAP = 2
MAX_SHEET_NAME = 31


def usage_type(kind):
    "voice, sms or data for usage lines rated here, else None"
    if kind in FEE_KINDS or kind == 'adjustment' or kind.startswith('rated_'):
        return None
    type_ = kind.split('_')[-1]
    return type_ if type_ in USAGE_TYPES else None


def usage_quantity(type_, units):
    "Data is counted in KB and billed in MB: show MB like the bill text"
    if units is None:
        return None
    if type_ == 'data':
        return round(units / 1024, 1)
    return units


class BillReport(Report):
    "Customer's monthly bill (ODT template)"
    __name__ = 'telecom.bill'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        # amounts are written the way the bill lines explain them
        context['format_money'] = format_money
        return context


class BillXlsx(XlsxReport):
    "Bill with itemised lines (Excel)"
    __name__ = 'telecom.bill.xlsx'
    title_message = 'crm_billing.msg_bill_xlsx_title'

    @classmethod
    def columns(cls, data):
        pool = Pool()
        BillLine = pool.get('telecom.bill.line')
        names = BillLine.fields_get(['subscriber', 'kind', 'description',
                'quantity', 'billable', 'rate', 'amount'])

        def label(name):
            return names[name]['string']
        return [
            Column(label('subscriber'), lambda r: r['number'], width=14),
            Column(label('kind'), lambda r: r['kind'], width=18),
            Column(label('description'), lambda r: r['description'],
                'wrap', width=60),
            Column(label('quantity'), lambda r: r['used'], 'quantity',
                width=10),
            Column(gettext('crm_billing.msg_bill_xlsx_included'),
                lambda r: r['included'], 'quantity', width=10),
            Column(label('billable'), lambda r: r['billable'], 'quantity',
                width=10),
            Column(gettext('crm_billing.msg_bill_xlsx_unit'),
                lambda r: r['unit'], width=8),
            Column(label('rate'), lambda r: r['rate'], 'rate', width=10),
            Column(label('amount'), lambda r: r['amount'], 'money',
                width=12),
            ]

    @classmethod
    def bill_sheet_name(cls, records):
        if len(records) == 1 and records[0].code:
            name = records[0].code
        else:
            name = cls.title({})
        # characters Excel refuses in sheet names
        return re.sub(r'[\[\]:*?/\\]', '-', name)[:MAX_SHEET_NAME]

    @classmethod
    def sections(cls, records):
        "Yield (bill, [line row]) in the order the bills were given"
        pool = Pool()
        BillLine = pool.get('telecom.bill.line')
        units = {t: gettext('crm_billing.msg_unit_%s' % t)
            for t in USAGE_TYPES}
        for bills in grouped_slice(records, 1000):
            bills = list(bills)
            lines = defaultdict(list)
            # one search for the lines of a thousand bills; their related
            # records are then read in batches by the record cache
            for line in BillLine.search([
                        ('bill', 'in', [b.id for b in bills]),
                        ], order=[('subscriber', 'ASC'), ('sequence', 'ASC'),
                        ('id', 'ASC')]):
                type_ = usage_type(line.kind)
                included = None
                if type_ and (line.included is not None
                        or line.addon_included is not None):
                    included = ((line.included or 0)
                        + (line.addon_included or 0))
                lines[line.bill.id].append({
                        'number': (line.subscriber.rec_name
                            if line.subscriber else None),
                        'kind': line.kind_string,
                        'description': line.description,
                        'used': usage_quantity(type_, line.quantity)
                        if type_ else None,
                        'included': usage_quantity(type_, included),
                        'billable': line.billable,
                        'unit': units[type_] if type_ else None,
                        'rate': line.rate,
                        'amount': line.amount,
                        })
            for bill in bills:
                yield bill, lines[bill.id]

    @classmethod
    def header(cls, bill):
        "(label, value, format) rows of the header block of a bill"
        pool = Pool()
        Bill = pool.get('telecom.bill')
        names = Bill.fields_get(['code', 'account', 'payer', 'date',
                'due_date', 'state'])

        def label(name):
            return names[name]['string']
        return [
            (label('code'), bill.code, 'text'),
            (label('account'), bill.account.rec_name, 'text'),
            (label('payer'), bill.payer.rec_name, 'text'),
            (gettext('crm_billing.msg_bill_xlsx_period'),
                '%s ~ %s' % (bill.period_start, bill.period_end), 'text'),
            (label('date'), bill.date, 'header_date'),
            (label('due_date'), bill.due_date, 'header_date'),
            (label('state'), bill.state_string, 'text'),
            (gettext('crm_billing.msg_bill_xlsx_total'), bill.amount,
                'money_bold'),
            ]

    @classmethod
    def formats(cls, workbook):
        formats = super().formats(workbook)
        specs = {
            'header_date': {'num_format': 'yyyy-mm-dd', 'align': 'left'},
            'money_bold': {'bold': True, 'num_format': XLSX_MONEY,
                'align': 'left'},
            'total': {'bold': True, 'top': 1},
            'total_money': {'bold': True, 'top': 1,
                'num_format': XLSX_MONEY},
            }
        formats.update((name, workbook.add_format({**FONT, **spec}))
            for name, spec in specs.items())
        formats['quantity'] = formats['text']
        return formats

    @classmethod
    def _write_sheet(cls, workbook, records, data):
        formats = cls.formats(workbook)
        sheet = workbook.add_worksheet(cls.bill_sheet_name(records))
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)
        columns = cls.columns(data)
        for col, column in enumerate(columns):
            sheet.set_column(col, col, column.width)
        amount_col = len(columns) - 1

        # constant-memory sheets are written strictly row after row
        row = cls.write_title(sheet, data, formats)
        count, grand_total = 0, Decimal(0)
        for bill, lines in cls.sections(records):
            row += SECTION_GAP
            for label, value, type_ in cls.header(bill):
                sheet.write_string(row, 0, label, formats['label'])
                cls._write_cell(sheet, row, 1, value, formats[type_])
                row += 1
            row += 1
            cls.write_header(sheet, row, columns, formats)
            total = Decimal(0)
            for line in lines:
                row += 1
                cls.write_row(sheet, row, columns, line, formats)
                total += line['amount'] or 0
            row += 1
            for col in range(len(columns)):
                sheet.write_blank(row, col, None, formats['total'])
            sheet.write_string(row, 0,
                gettext('crm_billing.msg_bill_xlsx_total'), formats['total'])
            sheet.write_number(row, amount_col, float(total),
                formats['total_money'])
            count += 1
            grand_total += total
        if count > 1:
            row += SECTION_GAP
            sheet.write_string(row, 0,
                gettext('crm_billing.msg_bill_xlsx_grand_total', count=count),
                formats['label'])
            sheet.write_number(row, amount_col, float(grand_total),
                formats['total_money'])
