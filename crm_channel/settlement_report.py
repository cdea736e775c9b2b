"""The dealer's commission statement (Excel): one row per commission,
so the dealer can check every line, then the total; one sheet per
settlement printed"""
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.excel import Column, XlsxReport

READ = ['kind', 'subscriber.rec_name', 'subscriber.plan',
    'subscriber.activation_date', 'date', 'base_amount', 'amount',
    'reason', 'instalment', 'rule.rate']


class SettlementXlsx(XlsxReport):
    "Dealer commission statement (Excel)"
    __name__ = 'telecom.commission.settlement.xlsx'
    title_message = 'crm_channel.msg_statement_title'

    @classmethod
    def _settlement(cls, data):
        Settlement = Pool().get('telecom.commission.settlement')
        return Settlement(data['settlement'])

    @classmethod
    def title(cls, data):
        settlement = cls._settlement(data)
        return gettext(cls.title_message, dealer=settlement.dealer.rec_name,
            period=settlement.period.rec_name)

    @classmethod
    def sheet_name(cls, data):
        settlement = cls._settlement(data)
        name = '%s %s' % (settlement.dealer.dealer_code
            or settlement.dealer.rec_name, settlement.period.rec_name)
        # characters Excel refuses in a sheet name
        return ''.join('_' if c in '[]:*?/\\' else c for c in name)[:31]

    @classmethod
    def _write_sheet(cls, workbook, records, data):
        for settlement_id in data['settlements']:
            super()._write_sheet(workbook, records,
                dict(data, settlement=settlement_id))

    @classmethod
    def filters(cls, data):
        settlement = cls._settlement(data)
        strings = {n: d['string'] for n, d in settlement.fields_get(
                ['state', 'total']).items()}
        return [
            (strings['state'], settlement.state_string),
            (strings['total'], settlement.total),
            ]

    @classmethod
    def columns(cls, data):
        pool = Pool()
        Commission = pool.get('commission')
        Subscriber = pool.get('telecom.subscriber')
        strings = {n: d['string'] for n, d in Commission.fields_get([
                    'kind', 'subscriber', 'date', 'base_amount', 'amount',
                    'reason', 'instalment']).items()}
        line = {n: d['string'] for n, d in Subscriber.fields_get(
                ['plan', 'activation_date']).items()}
        return [
            Column(strings['kind'], lambda r: r['kind_string'], width=14),
            Column(strings['subscriber'], lambda r: r['number'], width=14),
            Column(line['plan'], lambda r: r['plan'], width=20),
            Column(line['activation_date'], lambda r: r['activation_date'],
                'date', 12),
            Column(strings['date'], lambda r: r['date'], 'date', 12),
            Column(strings['base_amount'], lambda r: r['base_amount'],
                'money', 12),
            Column(gettext('crm_channel.msg_statement_rate'),
                lambda r: r['rate'], 'money', 8),
            Column(strings['instalment'], lambda r: r['instalment'],
                'integer', 8),
            Column(strings['amount'], lambda r: r['amount'], 'money', 12),
            Column(strings['reason'], lambda r: r['reason'], width=30),
            ]

    @classmethod
    def rows(cls, records, data):
        pool = Pool()
        Commission = pool.get('commission')
        Template = pool.get('product.template')
        settlement = cls._settlement(data)
        with Transaction().set_context(_check_access=True):
            ids = [c.id for c in Commission.search(
                    [('settlement', '=', settlement.id)],
                    order=[('kind', 'ASC'), ('subscriber', 'ASC'),
                        ('id', 'ASC')])]
        kinds = dict(Commission.fields_get(['kind'])['kind']['selection'])
        plans = {}
        for sub_ids in grouped_slice(ids, 1000):
            with Transaction().set_context(_check_access=True):
                rows = Commission.read(list(sub_ids), READ)
            missing = {r['subscriber.'].get('plan') for r in rows
                if r.get('subscriber.')} - set(plans)
            plans.update((t.id, t.rec_name)
                for t in Template.browse([p for p in missing if p]))
            for row in rows:
                line = row.get('subscriber.') or {}
                row['kind_string'] = kinds.get(row['kind'], row['kind'])
                row['number'] = line.get('rec_name')
                row['plan'] = plans.get(line.get('plan'))
                row['activation_date'] = line.get('activation_date')
                row['rate'] = (row.get('rule.') or {}).get('rate') \
                    if row['kind'] == 'revenue_share' else None
                yield row
        yield {
            'kind_string': gettext('crm_channel.msg_statement_total'),
            'number': None, 'plan': None, 'activation_date': None,
            'date': None, 'base_amount': None, 'rate': None,
            'instalment': None, 'amount': settlement.total, 'reason': None,
            }

    @classmethod
    def execute(cls, ids, data):
        if not data or 'settlements' not in data:
            data = dict(data or {}, settlements=list(ids))
        return super().execute(ids, data)
