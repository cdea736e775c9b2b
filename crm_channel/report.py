"""Excel lists of the channel: performance by region and month, and the
dealers' risk flags"""
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from crm_telecom.excel import Column, XlsxReport

from .activation_report import activation_period
from .scorecard import share


def strings(model, names):
    "The labels of the model's fields, in the user's language"
    Model = Pool().get(model)
    return {n: d['string'] for n, d in Model.fields_get(names).items()}


def selection(model, name):
    Model = Pool().get(model)
    return dict(Model.fields_get([name])[name]['selection'])


class ChannelPerformanceXlsx(XlsxReport):
    """Channel performance (Excel): the activations of each channel by
    region and month, and how many lines are still active"""
    __name__ = 'telecom.channel.performance.xlsx'
    title_message = 'crm_channel.msg_performance_title'
    model = 'telecom.channel.activation'

    @classmethod
    def context(cls, data):
        context = dict(Transaction().context)
        for key in ['from_month', 'to_month', 'company', 'region']:
            if data.get(key):
                context[key] = data[key]
        return context

    @classmethod
    def filters(cls, data):
        pool = Pool()
        context = cls.context(data)
        start, end = activation_period(context)
        filters = [(gettext('crm_channel.msg_performance_period'),
                '%s – %s' % (start.strftime('%Y-%m'), end.strftime('%Y-%m')))]
        if context.get('region'):
            Region = pool.get('telecom.region')
            filters.append((strings(cls.model, ['region'])['region'],
                    Region(context['region']).rec_name))
        return filters

    @classmethod
    def columns(cls, data):
        labels = strings(cls.model, ['month', 'region', 'channel', 'kind',
                'dealer', 'activations', 'still_active'])
        return [
            Column(labels['month'], lambda r: r['month'], width=9),
            Column(labels['region'], lambda r: r['region'], width=20),
            Column(labels['channel'], lambda r: r['channel'], width=24),
            Column(labels['kind'], lambda r: r['kind'], width=12),
            Column(labels['dealer'], lambda r: r['dealer'], width=24),
            Column(labels['activations'], lambda r: r['activations'],
                'integer', 10),
            Column(labels['still_active'], lambda r: r['still_active'],
                'integer', 10),
            Column(gettext('crm_channel.msg_performance_active_share'),
                lambda r: share(r['still_active'], r['activations']), 'rate', 12),
            ]

    @classmethod
    def rows(cls, records, data):
        Activation = Pool().get(cls.model)
        kinds = selection('telecom.channel', 'kind')
        with Transaction().set_context(cls.context(data),
                _check_access=True):
            if records:
                ids = [r.id for r in records]
            else:
                ids = [r.id for r in Activation.search([])]
            rows = Activation.read(ids, ['month', 'region.rec_name',
                    'channel.rec_name', 'channel.kind', 'dealer.rec_name',
                    'activations', 'still_active'])

        def name(row, field):
            return (row.get(field + '.') or {}).get('rec_name')
        result = []
        for row in rows:
            result.append({
                    'month': row['month'].strftime('%Y-%m'),
                    'region': name(row, 'region'),
                    'channel': name(row, 'channel'),
                    'kind': kinds.get((row.get('channel.') or {}).get(
                                'kind')),
                    'dealer': name(row, 'dealer'),
                    'activations': row['activations'],
                    'still_active': row['still_active'],
                    })
        result.sort(key=lambda r: (r['month'], r['region'] or '',
                r['channel'] or ''))
        return result


class RiskFlagXlsx(XlsxReport):
    """Dealer risk flags (Excel): those selected, or else the open ones"""
    __name__ = 'telecom.dealer.risk_flag.xlsx'
    title_message = 'crm_channel.msg_risk_flag_title'
    model = 'telecom.dealer.risk_flag'

    @classmethod
    def columns(cls, data):
        labels = strings(cls.model, ['date', 'dealer', 'kind', 'value',
                'threshold', 'state', 'detail', 'cleared_by'])
        labels['dealer_code'] = strings('commission.agent',
            ['dealer_code'])['dealer_code']
        return [
            Column(labels['date'], lambda r: r['date'], 'date', 11),
            Column(labels['dealer_code'], lambda r: r['dealer_code'],
                width=14),
            Column(labels['dealer'], lambda r: r['dealer'], width=26),
            Column(labels['kind'], lambda r: r['kind'], width=22),
            Column(labels['value'], lambda r: r['value'], 'rate', 10),
            Column(labels['threshold'], lambda r: r['threshold'], 'rate',
                10),
            Column(labels['state'], lambda r: r['state'], width=8),
            Column(labels['detail'], lambda r: r['detail'], 'wrap', 40),
            Column(labels['cleared_by'], lambda r: r['cleared_by'],
                width=14),
            ]

    @classmethod
    def rows(cls, records, data):
        Flag = Pool().get(cls.model)
        kinds = selection(cls.model, 'kind')
        states = selection(cls.model, 'state')
        with Transaction().set_context(_check_access=True):
            if records:
                ids = [r.id for r in records]
            else:
                ids = [f.id for f in Flag.search([('state', '=', 'open')])]
            rows = Flag.read(ids, ['date', 'dealer.rec_name',
                    'dealer.dealer_code', 'kind', 'value', 'threshold',
                    'state', 'detail', 'cleared_by.rec_name'])
        for row in rows:
            dealer = row.get('dealer.') or {}
            yield {
                'date': row['date'],
                'dealer_code': dealer.get('dealer_code'),
                'dealer': dealer.get('rec_name'),
                'kind': kinds.get(row['kind']),
                'value': row['value'],
                'threshold': row['threshold'],
                'state': states.get(row['state']),
                'detail': row['detail'],
                'cleared_by': (row.get('cleared_by.') or {}).get('rec_name'),
                }
