from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateReport, StateView, Wizard

from crm_telecom.excel import Column, XlsxReport

READ_FIELDS = [
    'code', 'name', 'payer.name', 'payment_type', 'balance',
    'overdue_since', 'dunning_stage.name',
    ]


class ArrearsListStart(ModelView):
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


class ArrearsList(Wizard):
    "Export the arrears list to Excel"
    __name__ = 'telecom.arrears.list'

    start = StateView('telecom.arrears.list.start',
        'crm_dunning.arrears_list_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Export", 'export', 'tryton-ok', default=True),
            ])
    export = StateReport('telecom.arrears.list.xlsx')

    def do_export(self, action):
        start = self.start
        return action, {
            'region': start.region.id if start.region else None,
            'stage': start.stage.id if start.stage else None,
            'payment_type': start.payment_type,
            }


class ArrearsListXlsx(XlsxReport):
    "Arrears list (Excel)"
    __name__ = 'telecom.arrears.list.xlsx'

    @classmethod
    def title(cls, data):
        return gettext('crm_dunning.msg_arrears_list_title')

    @classmethod
    def domain(cls, data):
        domain = [('overdue_since', '!=', None)]
        if data.get('region'):
            domain.append(
                ('payer.region', 'child_of', [data['region']], 'parent'))
        if data.get('stage'):
            domain.append(('dunning_stage', '=', data['stage']))
        if data.get('payment_type'):
            domain.append(('payment_type', '=', data['payment_type']))
        return domain

    @classmethod
    def filters(cls, data):
        pool = Pool()
        Start = pool.get('telecom.arrears.list.start')
        labels = Start.fields_get(['region', 'stage', 'payment_type'])
        result = []
        for name, model in [
                ('region', 'telecom.region'),
                ('stage', 'telecom.dunning.stage')]:
            if data.get(name):
                result.append((labels[name]['string'],
                        pool.get(model)(data[name]).rec_name))
        if data.get('payment_type'):
            selection = dict(labels['payment_type']['selection'])
            result.append((labels['payment_type']['string'],
                    selection[data['payment_type']]))
        return result

    @classmethod
    def columns(cls, data):
        pool = Pool()
        Account = pool.get('telecom.account')
        names = Account.fields_get()
        payment_type = dict(names['payment_type']['selection'])

        def label(name):
            return names[name]['string']
        return [
            Column(label('code'), lambda r: r['code'], width=14),
            Column(label('name'), lambda r: r['name'], width=16),
            Column(label('payer'), lambda r: r['payer.name'], width=16),
            Column(label('payment_type'),
                lambda r: payment_type.get(r['payment_type']), width=10),
            Column(label('balance'), lambda r: r['balance'], 'money',
                width=12),
            Column(label('arrears'), lambda r: r['arrears'], 'money',
                width=12),
            Column(label('overdue_since'), lambda r: r['overdue_since'],
                'date', width=12),
            Column(label('days_overdue'), lambda r: r['days_overdue'],
                'integer', width=10),
            Column(label('dunning_stage'), lambda r: r['dunning_stage.name'],
                width=10),
            Column(gettext('crm_dunning.msg_xlsx_lines_suspended'),
                lambda r: len(r['suspended']), 'integer', width=10),
            Column(gettext('crm_dunning.msg_xlsx_numbers_suspended'),
                lambda r: ', '.join(r['suspended']), width=30),
            ]

    @classmethod
    def rows(cls, records, data):
        pool = Pool()
        Account = pool.get('telecom.account')
        today = pool.get('ir.date').today()
        if records:
            ids = [r.id for r in records]
        else:
            ids = [a.id for a in Account.search(cls.domain(data),
                    order=[('overdue_since', 'ASC'), ('id', 'ASC')])]
        with Transaction().set_context(_check_access=True):
            for sub_ids in grouped_slice(ids, 1000):
                sub_ids = list(sub_ids)
                suspended = cls._suspended_numbers(sub_ids)
                rows = {r['id']: r for r in Account.read(sub_ids,
                        READ_FIELDS)}
                # read() does not keep the order of the ids
                for id_ in sub_ids:
                    row = cls._flatten(rows[id_])
                    balance = row['balance'] or Decimal(0)
                    row['arrears'] = -balance if balance < 0 else Decimal(0)
                    since = row['overdue_since']
                    row['days_overdue'] = (
                        max((today - since).days, 0) if since else None)
                    row['suspended'] = suspended.get(id_, [])
                    yield row

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

    @staticmethod
    def _flatten(row):
        flat = dict(row)
        for path in READ_FIELDS:
            if '.' in path:
                head, tail = path.split('.', 1)
                value = row.get(head + '.')
                flat[path] = value.get(tail) if value else None
        return flat
