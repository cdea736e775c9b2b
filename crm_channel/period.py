"""Settlement periods and the monthly commission run

A period is an explicit range of days of a company; the periods of a
company neither overlap nor leave gaps, so every activation, bill,
service and termination falls in exactly one. The run ("Compute") builds
the period's commissions with one INSERT ... SELECT per kind over every
dealer line of the company (the tiers, one grouped count), then one
draft settlement per dealer. Re-running an open period replaces its
commissions; what another period already paid (an activation, a bill, a
service, an instalment, a clawback) is never paid again."""
import datetime as dt
from decimal import Decimal

from sql import Literal, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Coalesce
from sql.functions import CurrentTimestamp, Extract, Function, Round
from sql.operators import Exists

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.company import default_company
from crm_telecom.sql_tools import clear_cache, days_between, id_table

from .exceptions import CommissionError, CommissionValidationError


def month_index(date):
    "Months since year 0 of a date column, as SQL"
    return Extract('YEAR', date) * 12 + Extract('MONTH', date)


class _SQLiteDate(Function):
    __slots__ = ()
    _function = 'DATE'


def typed(value, type_):
    """A parameter of a known type: PostgreSQL cannot guess the type of
    parameters in the columns of an INSERT ... SELECT"""
    if backend.name == 'postgresql':
        return Literal(value).cast(type_)
    return Literal(value)


def event_day(column):
    "The day of a timestamp column, as SQL"
    if backend.name == 'sqlite':
        return _SQLiteDate(column)
    return column.cast('DATE')


class Period(Workflow, ModelSQL, ModelView):
    "Commission settlement period"
    __name__ = 'telecom.commission.period'

    name = fields.Char("Name", required=True,
        states={'readonly': Eval('state') != 'open'},
        help="E.g. 2026-11.")
    company = fields.Many2One('company.company', "Company", required=True,
        states={'readonly': Eval('state') != 'open'})
    start_date = fields.Date("From", required=True,
        states={'readonly': Eval('state') != 'open'},
        domain=[('start_date', '<=', Eval('end_date', None))])
    end_date = fields.Date("Until", required=True,
        states={'readonly': Eval('state') != 'open'},
        domain=[('end_date', '>=', Eval('start_date', None))])
    state = fields.Selection([
            ('open', "Open"),
            ('closed', "Closed"),
            ], "State", required=True, readonly=True, sort=False)
    computed_at = fields.DateTime("Computed At", readonly=True)
    settlements = fields.One2Many('telecom.commission.settlement', 'period',
        "Settlements", readonly=True)
    commissions = fields.One2Many('commission', 'period', "Commissions",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.company, Index.Range()),
                (t.start_date, Index.Range())))
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('open', 'closed'), ('closed', 'open')}
        cls._buttons.update({
                'compute': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') != 'closed',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def default_company(cls):
        return default_company()

    @classmethod
    def validate_fields(cls, periods, field_names):
        super().validate_fields(periods, field_names)
        if field_names is None or {'start_date', 'end_date',
                'company'} & set(field_names):
            cls.check_dates(periods)

    @classmethod
    def check_dates(cls, periods):
        "Periods of a company neither overlap nor leave a gap"
        for period in periods:
            if period.start_date > period.end_date:
                raise CommissionValidationError(gettext(
                        'crm_channel.msg_period_dates',
                        period=period.rec_name,
                        start=period.start_date, end=period.end_date))
            others = cls.search([
                    ('company', '=', period.company.id),
                    ('id', '!=', period.id),
                    ('start_date', '<=', period.end_date),
                    ('end_date', '>=', period.start_date),
                    ], limit=1)
            if others:
                other, = others
                raise CommissionValidationError(gettext(
                        'crm_channel.msg_period_overlap',
                        period=period.rec_name, other=other.rec_name,
                        start=other.start_date, end=other.end_date))
            day = dt.timedelta(days=1)
            before = cls.search([
                    ('company', '=', period.company.id),
                    ('end_date', '<', period.start_date),
                    ], order=[('end_date', 'DESC')], limit=1)
            if before and before[0].end_date != period.start_date - day:
                raise CommissionValidationError(gettext(
                        'crm_channel.msg_period_gap',
                        period=period.rec_name, other=before[0].rec_name,
                        start=before[0].end_date + day,
                        end=period.start_date - day))
            after = cls.search([
                    ('company', '=', period.company.id),
                    ('start_date', '>', period.end_date),
                    ], order=[('start_date', 'ASC')], limit=1)
            if after and after[0].start_date != period.end_date + day:
                raise CommissionValidationError(gettext(
                        'crm_channel.msg_period_gap',
                        period=period.rec_name, other=after[0].rec_name,
                        start=period.end_date + day,
                        end=after[0].start_date - day))

    @classmethod
    def check_modification(cls, mode, periods, values=None, external=False):
        super().check_modification(mode, periods, values=values,
            external=external)
        if mode == 'delete':
            for period in periods:
                if period.state != 'open' or period.settlements:
                    raise CommissionError(gettext(
                            'crm_channel.msg_period_delete',
                            period=period.rec_name))

    @classmethod
    @ModelView.button
    def compute(cls, periods):
        for period in periods:
            period._compute()
        cls.write(periods, {'computed_at': dt.datetime.now()})

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, periods):
        for period in periods:
            for settlement in period.settlements:
                if settlement.state == 'draft':
                    raise CommissionError(gettext(
                            'crm_channel.msg_period_close_draft',
                            period=period.rec_name,
                            dealer=settlement.dealer.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, periods):
        pass

    # the run

    def _compute(self):
        pool = Pool()
        Commission = pool.get('commission')
        Settlement = pool.get('telecom.commission.settlement')
        if self.state != 'open':
            raise CommissionError(gettext(
                    'crm_channel.msg_period_not_open', period=self.rec_name))
        for settlement in self.settlements:
            if settlement.state != 'draft':
                raise CommissionError(gettext(
                        'crm_channel.msg_period_settled',
                        period=self.rec_name,
                        dealer=settlement.dealer.rec_name,
                        state=settlement.state_string))
        cursor = Transaction().connection.cursor()
        commission = Commission.__table__()
        settlement = Settlement.__table__()
        # re-running replaces what the last run built
        cursor.execute(*commission.delete(
                where=commission.period == self.id))
        cursor.execute(*settlement.delete(
                where=settlement.period == self.id))
        # a draft settlement per dealer that may earn, so that each
        # commission is written with its settlement; those left without
        # any go after the run
        settlements = self._open_settlements()
        for values, from_, kwargs in [
                self._activation_query(),
                self._revenue_share_query(),
                self._instalment_query(),
                self._vas_bonus_query(),
                ]:
            from_ = from_.join(settlement, condition=(
                    settlement.period == self.id)
                & (settlement.dealer == values['agent']))
            values.update({
                    'period': typed(self.id, 'INTEGER'),
                    'settlement': settlement.id,
                    'create_uid': typed(Transaction().user, 'INTEGER'),
                    'create_date': CurrentTimestamp(),
                    })
            if 'group_by' in kwargs:
                kwargs['group_by'] = kwargs['group_by'] + [settlement.id]
            cursor.execute(*commission.insert(
                    [getattr(commission, n) for n in values],
                    from_.select(*values.values(), **kwargs)))
        self._insert_rows(self._volume_tier_rows(), settlements)
        self._insert_rows(self._clawback_rows(), settlements)
        self._drop_empty_settlements()
        clear_cache(Commission)
        clear_cache(Settlement)
        Settlement.update_total(Settlement.search([
                    ('period', '=', self.id),
                    ]))

    @staticmethod
    def _columns(commission):
        return [commission.agent, commission.product, commission.amount,
            commission.base_amount, commission.date, commission.kind,
            commission.subscriber, commission.rule, commission.bill,
            commission.service, commission.instalment, commission.period,
            commission.reason, commission.settlement,
            commission.create_uid, commission.create_date]

    def _insert_rows(self, rows, settlements):
        """Rows (dicts) built in Python, inserted many at a time, each
        with the settlement of its dealer ({dealer id: settlement id})"""
        pool = Pool()
        commission = pool.get('commission').__table__()
        columns = self._columns(commission)
        names = [c.name for c in columns]
        user = Transaction().user
        now = dt.datetime.now()
        cursor = Transaction().connection.cursor()
        size = 50 if backend.name == 'sqlite' else 1000
        for chunk in grouped_slice(rows, size):
            values = []
            for row in chunk:
                row = {**row, 'period': self.id, 'create_uid': user,
                    'create_date': now,
                    'settlement': settlements[row['agent']]}
                values.append([row.get(n) for n in names])
            if values:
                cursor.execute(*commission.insert(columns, values))

    def _dealer_lines(self):
        """Lines of the company's dealers that have a plan, joined with
        the dealer and plan: (query from, subscriber, agent, plan)"""
        pool = Pool()
        subscriber = pool.get('telecom.subscriber').__table__()
        agent = pool.get('commission.agent').__table__()
        plan = pool.get('commission.plan').__table__()
        product = pool.get('product.product').__table__()
        from_ = (subscriber
            .join(agent, condition=subscriber.dealer == agent.id)
            .join(plan, condition=agent.plan == plan.id)
            .join(product, condition=plan.commission_product == product.id))
        where = ((subscriber.company == self.company.id)
            & (agent.company == self.company.id))
        return from_, where, subscriber, agent, plan

    def _join_rule(self, from_, plan, kind, product):
        """Join the rule of the plan of a kind that applies to a product:
        the one naming it, else the first one naming none. Which rule that
        is gets worked out here from the few rules there are, and joined
        as two small tables: no lookup per line. Returns (from, rule)"""
        Rule = Pool().get('telecom.commission.rule')
        rule = Rule.__table__()
        named, fallback = {}, {}
        for record in Rule.search([('kind', '=', kind)],
                order=[('sequence', 'ASC NULLS FIRST'), ('id', 'ASC')]):
            if record.product:
                named.setdefault((record.plan.id, record.product.id),
                    record.id)
            else:
                fallback.setdefault(record.plan.id, record.id)
        # a row matching nothing keeps an empty table's columns
        named = id_table([(*k, v) for k, v in named.items()]
            or [(-1, -1, -1)])
        fallback = id_table(list(fallback.items()) or [(-1, -1)])
        from_ = (from_
            .join(named, 'LEFT', condition=(named.column1 == plan.id)
                & (named.column2 == product))
            .join(fallback, 'LEFT', condition=fallback.column1 == plan.id)
            .join(rule, condition=rule.id == Coalesce(
                    named.column3, fallback.column2)))
        return from_, rule

    def _commission_values(self, agent, plan, subscriber, rule, kind, **values):
        """The columns of a commission of the kind on a dealer line (its
        line is `subscriber`: no origin, whose two indexes would cost a
        third of writing the row)"""
        return {
            'agent': agent.id,
            'product': plan.commission_product,
            'kind': typed(kind, 'VARCHAR'),
            'subscriber': subscriber.id,
            'rule': rule.id,
            **values,
            }

    def _not_paid(self, kind, **same):
        "No commission of the kind of another period for the same things"
        commission = Pool().get('commission').__table__()
        where = (commission.kind == kind)
        for name, value in same.items():
            where &= getattr(commission, name) == value
        return ~Exists(commission.select(Literal(1), where=where))

    def _activation_query(self):
        from_, where, subscriber, agent, plan = self._dealer_lines()
        from_, rule = self._join_rule(from_, plan, 'one_off',
            subscriber.plan)
        return self._commission_values(agent, plan, subscriber, rule,
            amount=rule.amount, date=subscriber.activation_date,
            kind='activation'), from_, dict(
            where=where
            & (subscriber.activation_date >= self.start_date)
            & (subscriber.activation_date <= self.end_date)
            & self._not_paid('activation', subscriber=subscriber.id))

    def _revenue_share_query(self):
        pool = Pool()
        bill = pool.get('telecom.bill').__table__()
        bill_line = pool.get('telecom.bill.line').__table__()
        from_, where, subscriber, agent, plan = self._dealer_lines()
        from_, rule = self._join_rule(from_, plan, 'revenue_share',
            subscriber.plan)
        from_ = (from_
            .join(bill_line, condition=bill_line.subscriber == subscriber.id)
            .join(bill, condition=bill_line.bill == bill.id))
        base = Sum(bill_line.amount)
        amount = Round(base * rule.rate / 100, 2)
        return self._commission_values(agent, plan, subscriber, rule,
            amount=amount, base_amount=base, date=bill.period_end,
            kind='revenue_share', bill=bill.id), from_, dict(
            where=where
            & (bill.state == 'paid')
            & (bill.period_end <= self.end_date)
            & (bill.period_end >= subscriber.activation_date)
            & ((month_index(bill.period_start)
                    - month_index(subscriber.activation_date))
                < rule.months)
            & self._not_paid('revenue_share', subscriber=subscriber.id,
                bill=bill.id),
            group_by=[agent.id, plan.commission_product, rule.id, rule.rate,
                subscriber.id, bill.id, bill.period_end],
            having=amount != 0)

    def _instalment_query(self):
        from_, where, subscriber, agent, plan = self._dealer_lines()
        from_, rule = self._join_rule(from_, plan, 'instalment',
            subscriber.plan)
        number = (typed(self.end_date.year * 12 + self.end_date.month,
                'INTEGER')
            - month_index(subscriber.activation_date) + 1)
        if backend.name == 'postgresql':
            number = number.cast('INTEGER')
        return self._commission_values(agent, plan, subscriber, rule,
            amount=rule.amount, date=typed(self.end_date, 'DATE'),
            kind='instalment', instalment=number), from_, dict(
            where=where
            # paid only while the line is active
            & (subscriber.state == 'active')
            & (subscriber.activation_date <= self.end_date)
            & (number <= rule.months)
            & self._not_paid('instalment', subscriber=subscriber.id,
                instalment=number))

    def _vas_bonus_query(self):
        pool = Pool()
        service = pool.get('telecom.subscriber.service').__table__()
        order = pool.get('telecom.order').__table__()
        channel = pool.get('telecom.channel').__table__()
        from_, where, subscriber, agent, plan = self._dealer_lines()
        # the dealer's outlet sold the service (with the line or later)
        from_ = (from_
            .join(service, condition=service.subscriber == subscriber.id)
            .join(order, condition=service.order == order.id)
            .join(channel, condition=(order.channel == channel.id)
                & (channel.dealer == agent.id)))
        from_, rule = self._join_rule(from_, plan, 'vas_bonus',
            service.product)
        return self._commission_values(agent, plan, subscriber, rule,
            amount=rule.amount, date=service.start_date,
            kind='vas_bonus', service=service.id), from_, dict(
            where=where
            & (service.start_date >= self.start_date)
            & (service.start_date <= self.end_date)
            & self._not_paid('vas_bonus', service=service.id))

    def _volume_tier_rows(self):
        """Per dealer, the highest tier its activations of the period
        reach pays its amount per activation (a tier naming a plan counts
        that plan's activations)"""
        pool = Pool()
        Rule = pool.get('telecom.commission.rule')
        Agent = pool.get('commission.agent')
        cursor = Transaction().connection.cursor()
        from_, where, subscriber, agent, plan = self._dealer_lines()
        rule = Rule.__table__()
        cursor.execute(*from_.select(agent.id, subscriber.plan,
                Count(subscriber.id),
                where=where
                & (subscriber.activation_date >= self.start_date)
                & (subscriber.activation_date <= self.end_date)
                & Exists(rule.select(Literal(1), where=(
                            rule.plan == plan.id)
                        & (rule.kind == 'volume_tier'))),
                group_by=[agent.id, subscriber.plan]))
        counts = {}
        for agent_id, plan_id, count in cursor:
            counts.setdefault(agent_id, {})[plan_id] = count
        rows = []
        for dealer in Agent.browse(list(counts)):
            tiers = {}
            for tier in dealer.plan.telecom_rules:
                if tier.kind == 'volume_tier':
                    tiers.setdefault(tier.product, []).append(tier)
            for product, rules in tiers.items():
                if product:
                    count = counts[dealer.id].get(product.id, 0)
                else:
                    count = sum(counts[dealer.id].values())
                reached = [r for r in rules if r.min_activations <= count]
                if not reached:
                    continue
                tier = max(reached, key=lambda r: r.min_activations)
                rows.append({
                        'agent': dealer.id,
                        'product': dealer.plan.commission_product.id,
                        'amount': tier.amount * count,
                        'base_amount': Decimal(count),
                        'date': self.end_date,
                        'kind': 'volume_tier',
                        'rule': tier.id,
                        'reason': gettext('crm_channel.msg_tier_reason',
                            count=count, tier=tier.min_activations,
                            product=product.rec_name if product
                            else gettext('crm_channel.msg_any_plan')),
                        })
        return rows

    def _clawback_rows(self):
        """A line terminated, suspended for arrears or found fraudulent in
        the period, within the plan's clawback days of its activation,
        gives its activation commission back (its first such event)"""
        pool = Pool()
        Commission = pool.get('commission')
        event = pool.get('telecom.subscriber.event').__table__()
        order = pool.get('telecom.order').__table__()
        commission = Commission.__table__()
        cursor = Transaction().connection.cursor()
        from_, where, subscriber, agent, plan = self._dealer_lines()
        reason = Coalesce(order.suspension_reason,
            subscriber.suspension_reason)
        days = days_between(event_day(event.date), subscriber.activation_date)
        start = dt.datetime.combine(self.start_date, dt.time())
        end = dt.datetime.combine(self.end_date + dt.timedelta(days=1),
            dt.time())
        from_ = (from_
            .join(event, condition=event.subscriber == subscriber.id)
            .join(order, 'LEFT', condition=event.order == order.id)
            .join(commission, condition=(commission.subscriber
                    == subscriber.id) & (commission.kind == 'activation')))
        query = from_.select(subscriber.id, agent.id, commission.product,
            commission.amount, event.type, reason, days, event.date,
            where=where
            & (event.date >= start) & (event.date < end)
            & ((event.type == 'terminate')
                | ((event.type == 'suspend')
                    & reason.in_(['arrears', 'fraud'])))
            & (plan.clawback_days != Null)
            & (days <= plan.clawback_days)
            & self._not_paid('clawback', subscriber=subscriber.id),
            order_by=[subscriber.id, event.date, event.id])
        cursor.execute(*query)
        rows, seen = [], set()
        for (subscriber_id, agent_id, product_id, amount, type_,
                suspension, days, date) in cursor:
            if subscriber_id in seen:
                continue
            seen.add(subscriber_id)
            if type_ == 'terminate':
                message = 'crm_channel.msg_clawback_terminated'
            elif suspension == 'fraud':
                message = 'crm_channel.msg_clawback_fraud'
            else:
                message = 'crm_channel.msg_clawback_arrears'
            if isinstance(date, str):
                date = dt.datetime.fromisoformat(date)
            rows.append({
                    'agent': agent_id,
                    'product': product_id,
                    'amount': -Decimal(str(amount)),
                    'base_amount': Decimal(str(amount)),
                    'date': date.date(),
                    'kind': 'clawback',
                    'subscriber': subscriber_id,
                    'reason': gettext(message, days=int(days)),
                    })
        return rows

    def _open_settlements(self):
        """A draft settlement of the period for each of the company's
        dealers with a plan (the dealers `_dealer_lines` joins):
        {dealer id: settlement id}"""
        pool = Pool()
        Settlement = pool.get('telecom.commission.settlement')
        agent = pool.get('commission.agent').__table__()
        plan = pool.get('commission.plan').__table__()
        product = pool.get('product.product').__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*agent
            .join(plan, condition=agent.plan == plan.id)
            .join(product, condition=plan.commission_product == product.id)
            .select(agent.id, where=agent.company == self.company.id))
        dealers = [a for a, in cursor]
        settlements = Settlement.create([{
                    'dealer': d, 'period': self.id, 'company': self.company.id,
                    } for d in dealers])
        return {s.dealer.id: s.id for s in settlements}

    def _drop_empty_settlements(self):
        "The period's settlements of dealers that earned nothing go"
        pool = Pool()
        commission = pool.get('commission').__table__()
        settlement = pool.get('telecom.commission.settlement').__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*settlement.delete(
                where=(settlement.period == self.id)
                & ~settlement.id.in_(commission.select(
                        commission.settlement,
                        where=(commission.period == self.id)
                        & (commission.settlement != Null)))))
