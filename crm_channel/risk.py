"""Risk flags on dealers: a flagged dealer's commission is held.

The detection looks at every dealer at once, one grouped statement per
risk (never a query per dealer or line), with the thresholds of the
channel configuration:
- identity: more lines for one resident ID by one dealer within the
  identity window than allowed;
- no_usage: too high a share of the lines whose first 30 days ended in the
  last 30 days had no usage in those days;
- out_of_region: more lines activated in the last 30 days outside the
  dealer's region (the line's region not under the dealer's) than allowed;
- spike: the activations of the month so far exceed a factor of the
  average of the 3 months before (with a minimum).
A dealer is not flagged twice for one risk in a month while a flag is open.
"""
import datetime as dt
from decimal import Decimal

from sql import Literal, Null, Union, With
from sql.aggregate import Count, Sum
from sql.conditionals import Case
from sql.operators import Exists

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.company.model import employee_field, set_employee
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateView, Wizard

from crm_telecom import identity

from .scorecard import (
    USAGE_DAYS,
    cohort_figures,
    dealer_condition,
    execute,
    month_start,
    share,
)

# the days the identity (by default), region and usage checks look back
WINDOW_DAYS = 30
# the months the average of a spike is taken over
SPIKE_MONTHS = 3

RISK_KINDS = [
    ('identity', "Many Activations on One Identity"),
    ('no_usage', "High Share of Lines Without Usage"),
    ('out_of_region', "Activations Outside the Dealer's Region"),
    ('spike', "Sudden Volume Spike"),
    ]


class RiskFlag(Workflow, ModelSQL, ModelView):
    "Risk flag on a dealer: its commission is held until cleared"
    __name__ = 'telecom.dealer.risk_flag'

    dealer = fields.Many2One('commission.agent', "Dealer", required=True,
        readonly=True, ondelete='CASCADE')
    company = fields.Function(fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    kind = fields.Selection(RISK_KINDS, "Risk", required=True, readonly=True)
    date = fields.Date("Raised On", required=True, readonly=True)
    month = fields.Date("Month", required=True, readonly=True,
        help="The first day of the month the flag was raised in: a dealer "
        "is flagged once per risk and month while the flag is open.")
    detail = fields.Text("Detail", readonly=True)
    value = fields.Numeric("Measured", digits=(16, 2), readonly=True,
        help="What was measured: activations, a share in %...")
    threshold = fields.Numeric("Threshold", digits=(16, 2), readonly=True)
    state = fields.Selection([
            ('open', "Open"),
            ('cleared', "Cleared"),
            ], "State", required=True, readonly=True, sort=False)
    note = fields.Text("Note", states={'readonly': Eval('state') != 'open'},
        help="Why the channel manager cleared the flag.")
    cleared_by = employee_field("Cleared By", states=['cleared'])
    cleared_at = fields.DateTime("Cleared At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('dealer')
        cls._order.insert(0, ('date', 'DESC'))
        t = cls.__table__()
        cls._sql_indexes.add(Index(t,
                (t.dealer, Index.Range()),
                (t.state, Index.Equality(cardinality='low'))))
        cls._transitions |= {('open', 'cleared')}
        cls._buttons.update({
                'clear': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def default_month(cls):
        return month_start(Pool().get('ir.date').today())

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('date') and not values.get(
                'month'):
            values['month'] = month_start(values['date'])
        return values

    @fields.depends('dealer', '_parent_dealer.company')
    def on_change_with_company(self, name=None):
        if self.dealer:
            return self.dealer.company.id

    @classmethod
    def search_company(cls, name, clause):
        return [('dealer.company',) + tuple(clause[1:])]

    @classmethod
    @ModelView.button
    @Workflow.transition('cleared')
    @set_employee('cleared_by')
    def clear(cls, flags):
        cls.write(flags, {'cleared_at': dt.datetime.now()})

    @classmethod
    def detect(cls, date=None, company=None):
        """Raise the flags of every risk found on date (today by default)
        for the dealers (of the company); returns the new flags"""
        pool = Pool()
        Configuration = pool.get('telecom.channel.configuration')
        date = date or pool.get('ir.date').today()
        config = Configuration(1)
        found = []
        for kind in ['identity', 'no_usage', 'out_of_region', 'spike']:
            found.extend(getattr(cls, '_detect_%s' % kind)(
                    date, config, company))
        month = month_start(date)
        dealers = {f['dealer'] for f in found}
        raised = {(f.dealer.id, f.kind) for f in cls.search([
                    ('dealer', 'in', list(dealers)),
                    ('month', '=', month),
                    ('state', '=', 'open'),
                    ])} if dealers else set()
        vlist = []
        for flag in found:
            key = (flag['dealer'], flag['kind'])
            if key in raised:
                continue
            raised.add(key)
            vlist.append({**flag, 'date': date, 'month': month})
        return cls.create(vlist)

    @classmethod
    def detect_daily(cls):
        "Cron: the risks of today"
        cls.detect(company=Transaction().context.get('company'))

    @classmethod
    def _tables(cls):
        pool = Pool()
        return (pool.get('telecom.subscriber').__table__(),
            pool.get('commission.agent').__table__())

    @classmethod
    def _detect_identity(cls, date, config, company):
        "Many lines on one resident ID: one statement"
        Identifier = Pool().get('party.identifier')
        line, agent = cls._tables()
        identifier = Identifier.__table__()
        since = date - dt.timedelta(days=config.identity_days - 1)
        limit = config.identity_max_lines
        query = (line
            .join(agent, condition=line.dealer == agent.id)
            .join(identifier, condition=(identifier.party == line.customer)
                & (identifier.type == identity.TYPE))
            .select(line.dealer, identifier.code, Count(line.id),
                where=dealer_condition(agent, company)
                & (line.activation_date >= since)
                & (line.activation_date <= date),
                group_by=[line.dealer, identifier.code],
                having=Count(line.id) > limit))
        by_dealer = {}
        for dealer, code, count in execute(query):
            by_dealer.setdefault(dealer, []).append((identity.mask(code),
                    count))
        flags = []
        for dealer, codes in by_dealer.items():
            codes.sort()
            flags.append({
                    'dealer': dealer,
                    'kind': 'identity',
                    'value': Decimal(max(c for _, c in codes)),
                    'threshold': Decimal(limit),
                    'detail': gettext('crm_channel.msg_risk_identity',
                        days=config.identity_days, limit=limit,
                        identities=', '.join(
                            '%s × %s' % c for c in codes)),
                    })
        return flags

    @classmethod
    def _detect_no_usage(cls, date, config, company):
        """Lines without usage in their first 30 days, among the lines
        whose first 30 days ended in the last 30 days: one statement"""
        # activated from start, the first month ended on start + 30 days
        end = date - dt.timedelta(days=USAGE_DAYS)
        start = end - dt.timedelta(days=WINDOW_DAYS - 1)
        flags = []
        for dealer, (_, _, matured, no_usage) in cohort_figures(
                start, end, date, company).items():
            rate = share(no_usage, matured)
            if (matured < config.no_usage_min_lines
                    or rate <= config.no_usage_max_share):
                continue
            flags.append({
                    'dealer': dealer,
                    'kind': 'no_usage',
                    'value': rate,
                    'threshold': config.no_usage_max_share,
                    'detail': gettext('crm_channel.msg_risk_no_usage',
                        lines=matured, no_usage=no_usage,
                        start=start.isoformat(), end=end.isoformat()),
                    })
        return flags

    @classmethod
    def _detect_out_of_region(cls, date, config, company):
        """Lines activated in the last 30 days whose region is not under
        the dealer's: one statement, the region tree walked in SQL"""
        Region = Pool().get('telecom.region')
        line, agent = cls._tables()
        region, child = Region.__table__(), Region.__table__()
        # every (region, ancestor or itself) pair
        tree = With('region', 'ancestor', recursive=True)
        tree.query = Union(
            region.select(region.id, region.id),
            child.join(tree, condition=child.parent == tree.region).select(
                child.id, tree.ancestor),
            all_=True)
        since = date - dt.timedelta(days=WINDOW_DAYS - 1)
        inside = Exists(tree.select(tree.region,
                where=(tree.region == line.region)
                & (tree.ancestor == agent.region)))
        limit = config.out_of_region_max_lines
        query = line.join(agent, condition=line.dealer == agent.id).select(
            line.dealer, Count(line.id),
            where=dealer_condition(agent, company)
            & (agent.region != Null) & (line.region != Null)
            & (line.activation_date >= since)
            & (line.activation_date <= date)
            & ~inside,
            group_by=[line.dealer],
            having=Count(line.id) > limit,
            with_=[tree])
        return [{
                'dealer': dealer,
                'kind': 'out_of_region',
                'value': Decimal(count),
                'threshold': Decimal(limit),
                'detail': gettext('crm_channel.msg_risk_out_of_region',
                    lines=count, start=since.isoformat(),
                    end=date.isoformat()),
                } for dealer, count in execute(query)]

    @classmethod
    def _detect_spike(cls, date, config, company):
        """The month's activations so far against the average of the 3
        months before: one statement"""
        line, agent = cls._tables()
        month = month_start(date)
        since = month_start(date, SPIKE_MONTHS)
        one, zero = Literal(1), Literal(0)
        current = Sum(Case((line.activation_date >= month, one),
                else_=zero))
        query = line.join(agent, condition=line.dealer == agent.id).select(
            line.dealer, current,
            Sum(Case((line.activation_date < month, one), else_=zero)),
            where=dealer_condition(agent, company)
            & (line.activation_date >= since)
            & (line.activation_date <= date),
            group_by=[line.dealer],
            having=current >= config.spike_min_activations)
        flags = []
        for dealer, count, previous in execute(query):
            average = (Decimal(int(previous or 0)) / SPIKE_MONTHS).quantize(
                Decimal('0.01'))
            if count <= config.spike_factor * average:
                continue
            flags.append({
                    'dealer': dealer,
                    'kind': 'spike',
                    'value': Decimal(count),
                    'threshold': (config.spike_factor * average).quantize(
                        Decimal('0.01')),
                    'detail': gettext('crm_channel.msg_risk_spike',
                        count=count, average=average,
                        factor=config.spike_factor),
                    })
        return flags


class DetectStart(ModelView):
    "Detect dealer risks: the day"
    __name__ = 'telecom.dealer.risk_flag.detect.start'

    date = fields.Date("Date", required=True,
        help="The day the risks are looked for on (and counted back "
        "from).")

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()


class Detect(Wizard):
    "Detect dealer risks"
    __name__ = 'telecom.dealer.risk_flag.detect'

    start = StateView('telecom.dealer.risk_flag.detect.start',
        'crm_channel.risk_flag_detect_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Detect", 'detect', 'tryton-ok', default=True),
            ])
    detect = StateAction('crm_channel.act_risk_flag_form')

    def do_detect(self, action):
        Flag = Pool().get('telecom.dealer.risk_flag')
        company = Transaction().context.get('company')
        Flag.detect(self.start.date, company=company)
        return action, {}


class Agent(metaclass=PoolMeta):
    __name__ = 'commission.agent'

    risk_flags = fields.One2Many('telecom.dealer.risk_flag', 'dealer',
        "Risk Flags", readonly=True)
    commission_held = fields.Function(fields.Boolean("Commission Held",
            help="An open risk flag holds the dealer's commission."),
        'get_commission_held', searcher='search_commission_held')

    @classmethod
    def get_commission_held(cls, agents, name):
        Flag = cls.risk_flags.get_target()
        held = {f.dealer.id for f in Flag.search([
                    ('dealer', 'in', [a.id for a in agents]),
                    ('state', '=', 'open'),
                    ])}
        return {a.id: a.id in held for a in agents}

    @classmethod
    def search_commission_held(cls, name, clause):
        _, operator, value = clause
        held = (operator == '=') == bool(value)
        return [('risk_flags', 'where' if held else 'not where',
                [('state', '=', 'open')])]
