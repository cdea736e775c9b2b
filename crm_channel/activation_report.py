"""Activations by channel and month: the lines sold, counted from the
lines themselves (one grouped query), filtered by the period, company and
region of the context"""
import datetime as dt

from sql import Literal, Null
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case
from sql.functions import DateTrunc, Extract

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction

from crm_telecom.company import default_company

from .scorecard import month_start, next_month

# the states of a line still in the network
LIVE_STATES = ['active', 'suspended']


def as_date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def activation_period(context):
    """(first day, last day) of the months of the context, by default the
    twelve months up to the current one"""
    today = Pool().get('ir.date').today()
    start = as_date(context.get('from_month')) or month_start(today, 11)
    end = as_date(context.get('to_month')) or today
    return month_start(start), next_month(end) - dt.timedelta(days=1)


class ActivationContext(ModelView):
    "Activations by channel: period and filters"
    __name__ = 'telecom.channel.activation.context'

    from_month = fields.Date("From Month",
        domain=[If(Bool(Eval('to_month')),
                ('from_month', '<=', Eval('to_month')), ())],
        help="Any day of the first month shown.")
    to_month = fields.Date("To Month",
        domain=[If(Bool(Eval('from_month')),
                ('to_month', '>=', Eval('from_month')), ())],
        help="Any day of the last month shown.")
    company = fields.Many2One('company.company', "Company")
    region = fields.Many2One('telecom.region', "Region",
        help="Only the lines of this region and the regions under it.")

    @classmethod
    def default_from_month(cls):
        context = Transaction().context
        return as_date(context.get('from_month')) or activation_period(
            {})[0]

    @classmethod
    def default_to_month(cls):
        context = Transaction().context
        return as_date(context.get('to_month')) or month_start(
            Pool().get('ir.date').today())

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company') or default_company()


class Activation(ModelSQL, ModelView):
    "Activations of a channel in a month"
    __name__ = 'telecom.channel.activation'

    month = fields.Date("Month", readonly=True)
    channel = fields.Many2One('telecom.channel', "Channel", readonly=True)
    kind = fields.Function(fields.Selection('get_kinds', "Kind"),
        'get_kind')
    dealer = fields.Many2One('commission.agent', "Dealer", readonly=True)
    region = fields.Many2One('telecom.region', "Region", readonly=True)
    company = fields.Many2One('company.company', "Company", readonly=True)
    activations = fields.Integer("Activations", readonly=True)
    still_active = fields.Integer("Still Active", readonly=True,
        help="The lines still in the network (active or suspended).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('month', 'DESC'), ('channel', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        Region = pool.get('telecom.region')
        line = Subscriber.__table__()
        context = Transaction().context
        start, end = activation_period(context)
        where = ((line.channel != Null) & (line.activation_date != Null)
            & (line.activation_date >= start)
            & (line.activation_date <= end))
        if context.get('company'):
            where &= line.company == context['company']
        if context.get('region'):
            regions = Region.search([
                    ('parent', 'child_of', [context['region']]),
                    ], query=True)
            where &= line.region.in_(regions)
        # month and key computed below the grouping: PostgreSQL would not
        # see the same expression with its own parameters is grouped
        rows = line.select(
            line.id.as_('line'),
            cls.month.sql_cast(
                DateTrunc('month', line.activation_date)).as_('month'),
            ((Extract('YEAR', line.activation_date) * 12
                    + Extract('MONTH', line.activation_date)).cast('INTEGER')
                ).as_('key'),
            line.channel.as_('channel'),
            line.dealer.as_('dealer'),
            line.region.as_('region'),
            line.company.as_('company'),
            line.state.as_('state'),
            where=where)
        one, zero = Literal(1), Literal(0)
        return rows.select(
            Min(rows.line).as_('id'),
            rows.month.as_('month'),
            rows.channel.as_('channel'),
            rows.dealer.as_('dealer'),
            rows.region.as_('region'),
            rows.company.as_('company'),
            Count(rows.line).as_('activations'),
            Sum(Case((rows.state.in_(LIVE_STATES), one),
                    else_=zero)).as_('still_active'),
            group_by=[rows.month, rows.key, rows.channel, rows.dealer,
                rows.region, rows.company])

    @classmethod
    def get_kinds(cls):
        Channel = Pool().get('telecom.channel')
        return Channel.fields_get(['kind'])['kind']['selection']

    @classmethod
    def get_kind(cls, records, name):
        return {r.id: r.channel.kind if r.channel else None for r in records}

    def get_rec_name(self, name):
        return '%s %s' % (self.channel.rec_name, self.month.strftime('%Y-%m'))
