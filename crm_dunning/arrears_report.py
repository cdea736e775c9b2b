from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.wizard import StateReport, StateView

from crm_telecom.excel import (
    Column,
    ExportFilter,
    ExportWizard,
    XlsxListReport,
    export_buttons,
)


class ArrearsListStart(ExportFilter):
    "Arrears list export: filters"
    __name__ = 'telecom.arrears.list.start'

    region = fields.Many2One('telecom.region', "Region",
        help="Region of the payer, including the cities and districts "
        "below it.")
    stage = fields.Many2One('telecom.dunning.stage', "Dunning Stage")
    payment_type = fields.Selection([
            (None, ""),
            ('prepaid', "Prepaid"),
            ('postpaid', "Postpaid"),
            ], "Payment Type")


class ArrearsList(ExportWizard):
    "Export the arrears list to Excel"
    __name__ = 'telecom.arrears.list'

    start = StateView('telecom.arrears.list.start',
        'crm_dunning.arrears_list_start_view_form', export_buttons())
    export = StateReport('telecom.arrears.list.xlsx')


class ArrearsListXlsx(XlsxListReport):
    "Arrears list (Excel)"
    __name__ = 'telecom.arrears.list.xlsx'
    title_message = 'crm_dunning.msg_arrears_list_title'
    model = 'telecom.account'
    read_fields = [
        'code', 'name', 'payer.name', 'payment_type', 'balance', 'arrears',
        'overdue_since', 'days_overdue', 'dunning_stage.name',
        ]
    order = [('overdue_since', 'ASC'), ('id', 'ASC')]
    filter_model = 'telecom.arrears.list.start'
    filter_domain = {
        'region': ('payer.region', 'child_of'),
        'stage': ('dunning_stage', '='),
        'payment_type': ('payment_type', '='),
        }

    @classmethod
    def base_domain(cls, data):
        return [('overdue_since', '!=', None)]

    @classmethod
    def columns(cls, data):
        column = cls.field_column
        return [
            column('code', width=14),
            column('name', width=16),
            column('payer.name', width=16),
            column('payment_type', width=10),
            column('balance', 'money', width=12),
            column('arrears', 'money', width=12),
            column('overdue_since', 'date', width=12),
            column('days_overdue', 'integer', width=10),
            column('dunning_stage.name', width=10),
            Column(gettext('crm_dunning.msg_xlsx_lines_suspended'),
                lambda r: len(r['suspended']), 'integer', width=10),
            Column(gettext('crm_dunning.msg_xlsx_numbers_suspended'),
                lambda r: ', '.join(r['suspended']), width=30),
            ]

    @classmethod
    def batch_rows(cls, ids):
        "With the lines the arrears suspended"
        suspended = cls._suspended_numbers(ids)
        rows = super().batch_rows(ids)
        for row in rows:
            row['suspended'] = suspended.get(row['id'], [])
        return rows

    @classmethod
    def _suspended_numbers(cls, account_ids):
        "{account id: [numbers of its lines suspended]}, one query"
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        Number = pool.get('telecom.number')
        subscriber = Subscriber.__table__()
        number = Number.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*subscriber.join(number,
                condition=subscriber.number == number.id).select(
                subscriber.account, number.number,
                where=SQL_OPERATORS['in'](subscriber.account, account_ids)
                & (subscriber.state == 'suspended'),
                order_by=[subscriber.account, number.number]))
        result = defaultdict(list)
        for account_id, value in cursor:
            result[account_id].append(value)
        return result
