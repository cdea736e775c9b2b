from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateReport, StateView, Wizard

from .excel import Column, XlsxReport
from .subscriber import SUBSCRIBER_STATES

# fields read per batch of lines; dotted paths are resolved by read()
READ_FIELDS = [
    'number.number', 'number.grade', 'iccid', 'customer.name',
    'customer.identity_code', 'account.code', 'brand.name', 'plan.name',
    'region.name', 'state', 'activation_date', 'termination_date',
    'suspension_reason', 'extra',
    ]


class SubscriberListStart(ModelView):
    "Subscriber list export: filters"
    __name__ = 'telecom.subscriber.list.start'

    region = fields.Many2One('telecom.region', "Region",
        help="Includes the cities and districts below it.")
    brand = fields.Many2One('telecom.brand', "Brand")
    plan = fields.Many2One('product.template', "Plan",
        domain=[('telecom_type', '=', 'plan')])
    state = fields.Selection([(None, "")] + SUBSCRIBER_STATES, "State")
    activated_from = fields.Date("Activated From")
    activated_to = fields.Date("Activated To")


class SubscriberList(Wizard):
    "Export the subscriber list to Excel"
    __name__ = 'telecom.subscriber.list'

    start = StateView('telecom.subscriber.list.start',
        'crm_telecom.subscriber_list_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Export", 'export', 'tryton-ok', default=True),
            ])
    export = StateReport('telecom.subscriber.list.xlsx')

    def do_export(self, action):
        start = self.start
        data = {
            'region': start.region.id if start.region else None,
            'brand': start.brand.id if start.brand else None,
            'plan': start.plan.id if start.plan else None,
            'state': start.state,
            'activated_from': (start.activated_from.isoformat()
                if start.activated_from else None),
            'activated_to': (start.activated_to.isoformat()
                if start.activated_to else None),
            }
        return action, data


class SubscriberListXlsx(XlsxReport):
    "Subscriber list (Excel)"
    __name__ = 'telecom.subscriber.list.xlsx'

    @classmethod
    def title(cls, data):
        return gettext('crm_telecom.msg_subscriber_list_title')

    @classmethod
    def domain(cls, data):
        domain = []
        if data.get('region'):
            domain.append(('region', 'child_of', [data['region']], 'parent'))
        for name in ['brand', 'plan', 'state']:
            if data.get(name):
                domain.append((name, '=', data[name]))
        if data.get('activated_from'):
            domain.append(('activation_date', '>=', data['activated_from']))
        if data.get('activated_to'):
            domain.append(('activation_date', '<=', data['activated_to']))
        return domain

    @classmethod
    def filters(cls, data):
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        labels = Subscriber.fields_get(
            ['region', 'brand', 'plan', 'state', 'activation_date'])
        result = []
        for name, model in [
                ('region', 'telecom.region'),
                ('brand', 'telecom.brand'),
                ('plan', 'product.template')]:
            if data.get(name):
                result.append((labels[name]['string'],
                        pool.get(model)(data[name]).rec_name))
        if data.get('state'):
            result.append((labels['state']['string'],
                    dict(labels['state']['selection'])[data['state']]))
        if data.get('activated_from') or data.get('activated_to'):
            result.append((labels['activation_date']['string'], '%s ~ %s' % (
                        data.get('activated_from') or '',
                        data.get('activated_to') or '')))
        return result

    @classmethod
    def columns(cls, data):
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        Number = pool.get('telecom.number')
        names = Subscriber.fields_get()
        grade = dict(Number.fields_get(['grade'])['grade']['selection'])
        state = dict(names['state']['selection'])
        reason = dict(names['suspension_reason']['selection'])

        def label(name):
            return names[name]['string']

        def related(path):
            return lambda r: r.get(path)
        columns = [
            Column(label('number'), related('number.number'), width=14),
            Column(gettext('crm_telecom.msg_xlsx_grade'),
                lambda r: grade.get(r.get('number.grade')), width=8),
            Column(label('iccid'), related('iccid'), width=22),
            Column(label('customer'), related('customer.name'), width=16),
            Column(gettext('crm_telecom.msg_xlsx_identity'),
                related('customer.identity_code'), width=20),
            Column(label('account'), related('account.code'), width=14),
            Column(label('brand'), related('brand.name'), width=10),
            Column(label('plan'), related('plan.name'), width=22),
            Column(label('region'), related('region.name'), width=12),
            Column(label('state'), lambda r: state.get(r['state']), width=8),
            Column(label('suspension_reason'),
                lambda r: reason.get(r['suspension_reason']), width=12),
            Column(label('activation_date'), related('activation_date'),
                'date', width=12),
            Column(label('termination_date'), related('termination_date'),
                'date', width=12),
            ]
        for key, string in cls._extra_keys():
            columns.append(Column(string,
                    lambda r, key=key: (r.get('extra') or {}).get(key)))
        return columns

    @classmethod
    def _extra_keys(cls):
        pool = Pool()
        ExtraField = pool.get('telecom.extra_field')
        return [(f.name, f.string) for f in ExtraField.search(
                [('target', '=', 'telecom.subscriber')], order=[('id', 'ASC')])]

    @classmethod
    def rows(cls, records, data):
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        if records:
            ids = [r.id for r in records]
        else:
            ids = [s.id for s in Subscriber.search(
                    cls.domain(data), order=[('id', 'ASC')])]
        # reading in batches keeps the query count at one per thousand lines
        with Transaction().set_context(_check_access=True):
            for sub_ids in grouped_slice(ids, 1000):
                rows = Subscriber.read(list(sub_ids), READ_FIELDS)
                for row in rows:
                    yield cls._flatten(row)

    @staticmethod
    def _flatten(row):
        "read() nests dotted paths as dicts: turn them into 'a.b' keys"
        flat = dict(row)
        for path in READ_FIELDS:
            if '.' in path:
                head, tail = path.split('.', 1)
                value = row.get(head + '.')
                flat[path] = value.get(tail) if value else None
        return flat
