"""Dealer scorecards: what the lines a dealer sold in a month became, and
the star rating the rules set in the client give it.

A month's scorecards are computed for every dealer at once: each measure
is one grouped statement over the lines activated in the month (the
month's cohort), never a query per dealer or per line. The figures are
those known on the day of the computation; the monthly cron computes the
last four months again, so that the 90-day share of a month is final once
its lines are 90 days old.
"""
import datetime as dt
from decimal import Decimal

from sql import Literal, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Case
from sql.functions import Function
from sql.operators import Exists

from trytond import backend
from trytond.model import (
    ModelSQL,
    ModelView,
    Unique,
    fields,
    sequence_ordered,
)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.tools import sqlite_apply_types
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .dealer import STAR_RATINGS

# a line is still active after this many days, usage is looked for in
# its first USAGE_DAYS
ACTIVE_DAYS = 90
USAGE_DAYS = 30
# the months the monthly cron computes again
RECOMPUTE_MONTHS = 4
HUNDRED = Decimal(100)


def month_start(date, months_back=0):
    "The first day of the month months_back before date's"
    month = date.year * 12 + date.month - 1 - months_back
    return dt.date(month // 12, month % 12 + 1, 1)


def next_month(date):
    return month_start(date, -1)


class _SQLiteDate(Function):
    __slots__ = ()
    _function = 'DATE'


def add_days(date, days):
    "A date column days later, as SQL"
    if backend.name == 'sqlite':
        return _SQLiteDate(date, Literal('%+d day' % days))
    return date + Literal(days).cast('INTEGER')


def share(part, whole):
    "part of whole in %, None without a whole"
    if not whole:
        return None
    return (HUNDRED * part / whole).quantize(Decimal('0.01'))


def execute(query):
    cursor = Transaction().connection.cursor()
    cursor.execute(*query)
    return cursor.fetchall()


def dealer_condition(agent, company=None):
    "The dealers measured: agents (of the company)"
    where = agent.type_ == 'agent'
    if company:
        where &= agent.company == company
    return where


def cohort_figures(start, end, as_of, company=None):
    """{dealer: (activations, active after 90 days, lines whose first
    month is over, of them without usage)} of the lines activated from
    start to end (both included), known on as_of: one statement"""
    pool = Pool()
    Subscriber = pool.get('telecom.subscriber')
    Usage = pool.get('telecom.usage')
    Agent = pool.get('commission.agent')
    line = Subscriber.__table__()
    usage = Usage.__table__()
    agent = Agent.__table__()
    active = ((line.termination_date == Null)
        | (line.termination_date >= add_days(
                line.activation_date, ACTIVE_DAYS)))
    first_month_end = add_days(line.activation_date, USAGE_DAYS)
    matured = first_month_end <= as_of
    used = Exists(usage.select(usage.id,
            where=(usage.subscriber == line.id)
            & (usage.start >= line.activation_date)
            & (usage.start < first_month_end)))
    one, zero = Literal(1), Literal(0)
    query = line.join(agent, condition=line.dealer == agent.id).select(
        line.dealer,
        Count(line.id),
        Sum(Case((active, one), else_=zero)),
        Sum(Case((matured, one), else_=zero)),
        Sum(Case((matured & ~used, one), else_=zero)),
        where=dealer_condition(agent, company)
        & (line.activation_date >= start) & (line.activation_date <= end),
        group_by=[line.dealer])
    return {d: tuple(int(v or 0) for v in row)
        for d, *row in execute(query)}


def cohort_complaints(start, end, company=None):
    """{dealer: complaints about the lines activated from start to end},
    without customer service: none"""
    pool = Pool()
    try:
        Request = pool.get('telecom.service_request')
    except KeyError:
        return {}
    Subscriber = pool.get('telecom.subscriber')
    Agent = pool.get('commission.agent')
    request = Request.__table__()
    line = Subscriber.__table__()
    agent = Agent.__table__()
    query = (request
        .join(line, condition=request.subscriber == line.id)
        .join(agent, condition=line.dealer == agent.id)
        .select(line.dealer, Count(request.id),
            where=dealer_condition(agent, company)
            & (request.type == 'complaint') & (request.state != 'merged')
            & (line.activation_date >= start)
            & (line.activation_date <= end),
            group_by=[line.dealer]))
    return dict(execute(query))


def cohort_revenue(start, end, company=None):
    "{dealer: billed so far on the lines activated from start to end}"
    pool = Pool()
    BillLine = pool.get('telecom.bill.line')
    Subscriber = pool.get('telecom.subscriber')
    Agent = pool.get('commission.agent')
    bill_line = BillLine.__table__()
    line = Subscriber.__table__()
    agent = Agent.__table__()
    query = (bill_line
        .join(line, condition=bill_line.subscriber == line.id)
        .join(agent, condition=line.dealer == agent.id)
        .select(line.dealer, Sum(bill_line.amount).as_('revenue'),
            where=dealer_condition(agent, company)
            & (line.activation_date >= start)
            & (line.activation_date <= end),
            group_by=[line.dealer]))
    if backend.name == 'sqlite':
        # SQLite adds up in floats: cents come back with a tail
        sqlite_apply_types(query, [None, 'NUMERIC'])
    return {d: Decimal(str(a or 0)) for d, a in execute(query)}


class StarRule(sequence_ordered(), ModelSQL, ModelView):
    """Star rating rule: the first rule (by sequence) whose conditions a
    scorecard meets gives the dealer its stars"""
    __name__ = 'telecom.dealer.star_rule'

    stars = fields.Selection(STAR_RATINGS[1:], "Stars", required=True,
        sort=False)
    min_activations = fields.Integer("Min Activations",
        domain=['OR', ('min_activations', '=', None),
            ('min_activations', '>=', 0)],
        help="Leave empty for no condition.")
    min_active_share = fields.Numeric("Min Active After 90 Days (%)",
        digits=(5, 2),
        domain=['OR', ('min_active_share', '=', None),
            [('min_active_share', '>=', 0), ('min_active_share', '<=', 100)]],
        help="Leave empty for no condition.")
    max_no_usage_share = fields.Numeric("Max Without Usage (%)",
        digits=(5, 2),
        domain=['OR', ('max_no_usage_share', '=', None),
            [('max_no_usage_share', '>=', 0),
                ('max_no_usage_share', '<=', 100)]],
        help="Leave empty for no condition.")
    max_complaints = fields.Numeric("Max Complaints per 100", digits=(8, 2),
        domain=['OR', ('max_complaints', '=', None),
            ('max_complaints', '>=', 0)],
        help="Leave empty for no condition.")

    def get_rec_name(self, name):
        return dict(self.fields_get(['stars'])['stars']['selection']).get(
            self.stars, self.stars)

    def match(self, card):
        """Whether the scorecard values (a dict) meet the rule: a minimum
        must be shown, a maximum unknown for lack of lines holds"""
        if (self.min_activations is not None
                and card['activations'] < self.min_activations):
            return False
        if self.min_active_share is not None and (
                card['active_share'] is None
                or card['active_share'] < self.min_active_share):
            return False
        if (self.max_no_usage_share is not None
                and card['no_usage_share'] is not None
                and card['no_usage_share'] > self.max_no_usage_share):
            return False
        if (self.max_complaints is not None
                and card['complaints_per_100'] is not None
                and card['complaints_per_100'] > self.max_complaints):
            return False
        return True

    @classmethod
    def rate(cls, cards):
        "Set star_rating and star_rule in each scorecard dict"
        rules = cls.search([])
        for card in cards:
            for rule in rules:
                if rule.match(card):
                    card['star_rating'] = rule.stars
                    card['star_rule'] = rule.id
                    break
            else:
                card['star_rating'] = None
                card['star_rule'] = None
        return cards


class Scorecard(ModelSQL, ModelView):
    "Dealer scorecard of a month: what became of the lines it sold"
    __name__ = 'telecom.dealer.scorecard'

    dealer = fields.Many2One('commission.agent', "Dealer", required=True,
        readonly=True, ondelete='CASCADE')
    company = fields.Many2One('company.company', "Company", readonly=True)
    currency = fields.Many2One('currency.currency', "Currency",
        readonly=True)
    month = fields.Date("Month", required=True, readonly=True,
        help="The first day of the month the lines were activated in.")
    activations = fields.Integer("Activations", readonly=True,
        help="Lines the dealer activated in the month.")
    still_active = fields.Integer("Active After 90 Days", readonly=True,
        help="Of those, the lines not terminated within 90 days of their "
        "activation (so far, for lines younger than 90 days).")
    active_share = fields.Numeric("Active After 90 Days (%)", digits=(5, 2),
        readonly=True)
    matured = fields.Integer("Lines Past Their First Month", readonly=True,
        help="The lines whose first 30 days were over on the day of the "
        "computation: the share without usage is measured on them.")
    no_usage = fields.Integer("Without Usage in First Month", readonly=True,
        help="Lines with no usage record in their first 30 days.")
    no_usage_share = fields.Numeric("Without Usage in First Month (%)",
        digits=(5, 2), readonly=True)
    complaints = fields.Integer("Complaints", readonly=True,
        help="Complaints about the lines (with customer service).")
    complaints_per_100 = fields.Numeric("Complaints per 100 Activations",
        digits=(8, 2), readonly=True)
    revenue = Monetary("Revenue of Lines Sold", currency='currency',
        digits='currency', readonly=True,
        help="What the bills charged the lines so far.")
    star_rating = fields.Selection(STAR_RATINGS, "Star Rating",
        readonly=True, sort=False)
    star_rule = fields.Many2One('telecom.dealer.star_rule', "Star Rule",
        readonly=True, ondelete='SET NULL')
    computed_at = fields.DateTime("Computed At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('dealer')
        t = cls.__table__()
        cls._sql_constraints = [
            ('dealer_month_unique', Unique(t, t.dealer, t.month),
                'crm_channel.msg_scorecard_unique'),
            ]
        cls._order = [('month', 'DESC'), ('dealer', 'ASC'), ('id', 'DESC')]

    def get_rec_name(self, name):
        return '%s %s' % (self.dealer.rec_name, self.month.strftime('%Y-%m'))

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('dealer.rec_name',) + tuple(clause[1:])]

    @classmethod
    def compute(cls, month, as_of=None, company=None):
        """The scorecards of the month for every dealer (of the company)
        that sold in it or is active, replacing those computed before,
        and the dealers' star ratings from them"""
        pool = Pool()
        Agent = pool.get('commission.agent')
        StarRule = pool.get('telecom.dealer.star_rule')
        today = pool.get('ir.date').today()
        as_of = as_of or today
        start = month_start(month)
        end = next_month(start) - dt.timedelta(days=1)
        figures = cohort_figures(start, end, as_of, company)
        complaints = cohort_complaints(start, end, company)
        revenue = cohort_revenue(start, end, company)

        domain = [('type_', '=', 'agent'), ['OR',
                ('dealer_state', '=', 'active'),
                ('id', 'in', list(figures)),
                ]]
        if company:
            domain.append(('company', '=', company))
        with Transaction().set_context(active_test=False):
            dealers = Agent.search(domain)
        now = dt.datetime.now()
        cards = []
        for dealer in dealers:
            activations, active, matured, no_usage = figures.get(
                dealer.id, (0, 0, 0, 0))
            count = complaints.get(dealer.id, 0)
            cards.append({
                    'dealer': dealer.id,
                    'company': dealer.company.id,
                    'currency': dealer.currency.id,
                    'month': start,
                    'activations': activations,
                    'still_active': active,
                    'active_share': share(active, activations),
                    'matured': matured,
                    'no_usage': no_usage,
                    'no_usage_share': share(no_usage, matured),
                    'complaints': count,
                    'complaints_per_100': share(count, activations),
                    'revenue': revenue.get(dealer.id, Decimal(0)),
                    'computed_at': now,
                    })
        StarRule.rate(cards)
        old = cls.search([
                ('month', '=', start),
                ('dealer', 'in', [d.id for d in dealers]),
                ])
        cls.delete(old)
        scorecards = cls.create(cards)
        cls.rate_dealers(scorecards)
        return scorecards

    @classmethod
    def rate_dealers(cls, scorecards):
        "Write the stars on the dealers: one write per star rating"
        Agent = Pool().get('commission.agent')
        by_stars = {}
        for card in scorecards:
            if card.dealer.star_rating != card.star_rating:
                by_stars.setdefault(card.star_rating, []).append(card.dealer)
        args = []
        for stars, dealers in by_stars.items():
            args.extend([dealers, {'star_rating': stars}])
        if args:
            Agent.write(*args)

    @classmethod
    def compute_monthly(cls):
        """Cron: the scorecards of the last months, oldest first, so that
        the stars come from the last full month"""
        pool = Pool()
        today = pool.get('ir.date').today()
        company = Transaction().context.get('company')
        for back in range(RECOMPUTE_MONTHS, 0, -1):
            cls.compute(month_start(today, back), company=company)


class Agent(metaclass=PoolMeta):
    __name__ = 'commission.agent'

    scorecards = fields.One2Many('telecom.dealer.scorecard', 'dealer',
        "Scorecards", readonly=True)


class ComputeStart(ModelView):
    "Compute dealer scorecards: the month"
    __name__ = 'telecom.dealer.scorecard.compute.start'

    month = fields.Date("Month", required=True,
        help="Any day of the month: the scorecards of its activations are "
        "computed for every dealer.")

    @classmethod
    def default_month(cls):
        return month_start(Pool().get('ir.date').today(), 1)


class Compute(Wizard):
    "Compute dealer scorecards"
    __name__ = 'telecom.dealer.scorecard.compute'

    start = StateView('telecom.dealer.scorecard.compute.start',
        'crm_channel.scorecard_compute_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Compute", 'compute', 'tryton-ok', default=True),
            ])
    compute = StateTransition()

    def transition_compute(self):
        Scorecard = Pool().get('telecom.dealer.scorecard')
        company = Transaction().context.get('company')
        Scorecard.compute(self.start.month, company=company)
        return 'end'
