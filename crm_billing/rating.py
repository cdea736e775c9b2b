"""Rating of one bill cycle for a batch of accounts, in SQL.

A batch is a handful of INSERT ... SELECT statements, whatever its size.
The ids of its bills are taken first; then come the bills' fee lines (plan
periods and services prorated by days), their usage lines (from the run's
usage totals, telecom.bill.run.usage: plan allowance of the day, then the
add-ons of the cycle in the order of the plan periods, the rest at the
plan's rates), the late usage of earlier cycles and the approved
adjustments; then the bills, each with the sum of its lines, and the
ledger movements. Money is computed in whole cents (integer arithmetic, half-up),
so PostgreSQL and SQLite bill to the same cent.

Which usage a line charged is not written per record: a line covers the
records of its line, kind and days up to its bill's watermark
(usage_until), and a late line those after the previous bill's watermark
(usage_after); usage_of_line() is that rule for the drill-down."""
import datetime as dt

from sql import Literal, Null, Union, Values, Window
from sql.aggregate import Max, Sum
from sql.conditionals import Case, Coalesce, Greatest, Least
from sql.functions import CurrentTimestamp, Div, Function, Round
from sql.operators import Concat, Exists

from trytond import backend
from trytond.pool import Pool
from trytond.transaction import Transaction

from crm_telecom.bulk import reserve_ids
from crm_telecom.sql_tools import (
    analyze_if_empty,
    clear_cache,
    day_after,
    days_between,
    execute_planned,
    id_table,
    in_ids,
    without_jit,
)

KB_PER_MB = 1024
# allowance column of a plan or add-on for each usage type
ALLOWANCE_FIELDS = {
    'voice': 'voice_minutes',
    'sms': 'sms_count',
    'data': 'data_mb',
    }
RATE_FIELDS = {
    'voice': 'voice_rate',
    'sms': 'sms_rate',
    'data': 'data_rate',
    'roaming_voice': 'roaming_voice_rate',
    'roaming_sms': 'roaming_sms_rate',
    'roaming_data': 'roaming_data_rate',
    }
SEQUENCES = {
    'plan_fee': 10, 'addon_fee': 20, 'vas_fee': 30,
    'voice': 40, 'sms': 41, 'data': 42,
    'roaming_voice': 50, 'roaming_sms': 51, 'roaming_data': 52,
    'rated_voice': 60, 'rated_sms': 61, 'rated_data': 62,
    'adjustment': 90,
    }
# late usage comes after the cycle's own, in the same order
LATE_SEQUENCE = 70
# NULL as a selected column, and typed (a UNION cannot guess its type)
NONE = Literal(None)
NULL_INT = Literal(None).cast('INTEGER')
LINE_COLUMNS = ['bill', 'subscriber', 'sequence', 'kind', 'late',
    'product', 'start_date', 'end_date', 'days', 'cycle_days', 'quantity',
    'included', 'addon_included', 'billable', 'rate', 'amount',
    'adjustment']


def usage_kind(usage):
    "Bill line kind of a usage row, as an SQL expression"
    return Case(
        (usage.charge != Null, Concat('rated_', usage.type)),
        (usage.roaming == Literal(True), Concat('roaming_', usage.type)),
        else_=usage.type)


def usage_of_line(usage, line, bill):
    """The condition joining a bill line to the usage records it charged
    (with bill, the line's bill)"""
    return ((usage.subscriber == line.subscriber)
        & (usage.start >= line.start_date)
        & (usage.start < line.end_date)
        & (usage_kind(usage) == line.kind)
        & (usage.id <= bill.usage_until)
        & ((line.late != Literal(True))
            | (usage.id > Coalesce(bill.usage_after, 0))))


def cents(amount, digits=2):
    "An amount in whole units of 10^-digits, as SQL (rounded half-up)"
    return Round(Coalesce(amount, 0) * (10 ** digits)).cast('INTEGER')


class _Printf(Function):
    __slots__ = ()
    _function = 'PRINTF'


def as_money(value):
    """An amount rounded to cents, as SQL, stored as the ORM stores it
    (SQLite: the decimal's text, which reads back as 18.00, not 18)"""
    if backend.name == 'sqlite':
        return _Printf('%.2f', value).cast('BLOB')
    return Round(value, 2)


def from_cents(value):
    """Whole cents back to an amount, as SQL (divisions of whole numbers
    are written with Div: PostgreSQL takes integer parameters for numeric,
    where / would not truncate)"""
    if backend.name == 'sqlite':
        return as_money(value / 100.0)
    return as_money(value.cast('NUMERIC') / 100)


def half_up_div(numerator, denominator):
    """numerator / denominator (a positive int) rounded half-up, for a
    non-negative integer numerator, as SQL"""
    return Div(numerator * 2 + denominator, denominator * 2)


def billable_units(type_, units):
    "Charged units, as SQL: data is charged per started MB"
    return Case((type_ == 'data', Div(units + (KB_PER_MB - 1), KB_PER_MB)),
        else_=units)


def allowance(template, type_):
    """Allowance of a product in rated units (data in KB), as SQL; type_ a
    usage type or an SQL expression giving one"""
    # BIGINT: a large data allowance in KB times the days of a cycle
    # passes 2^31
    columns = {t: getattr(template, f).cast('BIGINT')
        for t, f in ALLOWANCE_FIELDS.items()}
    columns['data'] = columns['data'] * KB_PER_MB
    if isinstance(type_, str):
        return Coalesce(columns[type_], 0)
    return Coalesce(Case(*[(type_ == t, c) for t, c in columns.items()]), 0)


def rate(template, kind):
    "Rate of a plan for a bill line kind, as SQL"
    return Case(*[(kind == k, getattr(template, f))
            for k, f in RATE_FIELDS.items()])


def sequence(kind):
    return Case(*[(kind == k, s) for k, s in SEQUENCES.items()])


class Rating:
    "Bills of one cycle for a batch of account ids"

    def __init__(self, run, account_ids):
        self.run = run
        self.start = run.period_start
        self.end = run._end
        self.cycle_days = (self.end - self.start).days
        self.account_ids = list(account_ids)
        self.bill_ids = {}
        self.adjustments = []
        self.subscriber_ids = None
        self.lines_written = 0
        pool = Pool()
        self.bill_table = pool.get('telecom.bill').__table__()
        self.line_table = pool.get('telecom.bill.line').__table__()
        self.template = pool.get('product.template').__table__()

    def _in_accounts(self, column):
        return in_ids(column, self.account_ids)

    def _in_lines(self, column):
        """The batch's lines, as a list of ids: the plan periods and
        services of a batch are then read through their index on the line,
        whatever the size of the tables"""
        if self.subscriber_ids is None:
            subscriber = Pool().get('telecom.subscriber').__table__()
            cursor = Transaction().connection.cursor()
            execute_planned(cursor, subscriber.select(subscriber.id,
                    where=self._in_accounts(subscriber.account)))
            self.subscriber_ids = [i for i, in cursor]
        return in_ids(column, self.subscriber_ids)

    def _execute(self, query):
        execute_planned(Transaction().connection.cursor(), query)

    def _stamp(self):
        "create_uid and create_date, as the ORM sets them"
        return [Literal(Transaction().user), CurrentTimestamp()]

    def _insert_lines(self, query):
        line = self.line_table
        cursor = Transaction().connection.cursor()
        execute_planned(cursor, line.insert(
                [getattr(line, c) for c in LINE_COLUMNS]
                + [line.create_uid, line.create_date], query))
        self.lines_written += max(cursor.rowcount, 0)

    # --- bills ----------------------------------------------------------------

    def _reserve_bills(self):
        """The ids of the batch's bills, one per account, taken first: the
        lines are written before their bill, which then takes their sum as
        its amount (rather than being written twice)"""
        Bill = Pool().get('telecom.bill')
        self.bill_ids = dict(zip(self.account_ids,
                reserve_ids(Bill, len(self.account_ids))))

    def _insert_bills(self, issue_date, due_date):
        pool = Pool()
        Account = pool.get('telecom.account')
        account = Account.__table__()
        bill, line = self.bill_table, self.line_table
        earlier = pool.get('telecom.bill').__table__()
        bills = self._bills()
        prefix = 'B%s-' % self.start.strftime('%Y%m')
        # the watermark of the account's last bill: its late usage
        # starts after it
        usage_after = earlier.select(Max(earlier.usage_until),
            where=(earlier.account == account.id)
            & (earlier.period_start < self.start))
        amount = line.select(as_money(Coalesce(Sum(line.amount), 0)),
            where=line.bill == bills.column2)
        columns = ['id', 'code', 'account', 'payer', 'run', 'period_start',
            'period_end', 'date', 'due_date', 'amount', 'state',
            'usage_after', 'usage_until', 'create_uid', 'create_date']
        self._execute(bill.insert([getattr(bill, c) for c in columns],
                account.join(bills, condition=bills.column1 == account.id
                    ).select(bills.column2,
                    Concat(prefix, Coalesce(account.code,
                            account.id.cast('VARCHAR'))),
                    account.id, account.payer, Literal(self.run.id),
                    Literal(self.start),
                    Literal(self.end - dt.timedelta(days=1)),
                    Literal(issue_date), Literal(due_date), amount,
                    Literal('issued'), usage_after,
                    Literal(self.run.usage_until), *self._stamp(),
                    # through the index: not a scan of every account
                    where=self._in_accounts(account.id))))

    def _bills(self):
        """The batch's bills as a table of (account, bill): joined by the
        lines the batch writes, whatever the statistics of the bill table
        say (a table analysed empty would be scanned for each row)"""
        return id_table(list(self.bill_ids.items()))

    # --- fees -----------------------------------------------------------------

    def _in_cycle(self, period):
        "A plan period with days in the cycle"
        return ((period.start_date < self.end)
            & ((period.end_date == Null)
                | ((period.end_date > self.start)
                    & (period.end_date > period.start_date))))

    def _segments(self):
        """Plan periods of the batch's lines in the cycle, clipped to it:
        (account, subscriber, period, plan, start_date, end_date, days)"""
        pool = Pool()
        subscriber = pool.get('telecom.subscriber').__table__()
        period = pool.get('telecom.subscriber.plan').__table__()
        clipped = period.join(subscriber,
            condition=period.subscriber == subscriber.id
            ).select(subscriber.account.as_('account'),
            period.subscriber.as_('subscriber'), period.id.as_('period'),
            period.plan.as_('plan'),
            Greatest(period.start_date, self.start).as_('start_date'),
            Least(Coalesce(period.end_date, self.end), self.end
                ).as_('end_date'),
            where=self._in_lines(period.subscriber)
            & self._in_cycle(period))
        return clipped.select(clipped.account, clipped.subscriber,
            clipped.period, clipped.plan, clipped.start_date,
            clipped.end_date,
            days_between(clipped.end_date, clipped.start_date).as_('days'))

    def _fee(self, template, days):
        "A monthly fee prorated by days of the cycle, in cents"
        return half_up_div(cents(template.monthly_fee) * days,
            self.cycle_days)

    def _plan_fees(self):
        seg = self._segments()
        bills, template = self._bills(), self.template
        return (seg.join(bills,
                condition=bills.column1 == seg.account
                ).join(template, condition=template.id == seg.plan
                ).select(bills.column2, seg.subscriber,
                Literal(SEQUENCES['plan_fee']), Literal('plan_fee'),
                Literal(False), seg.plan, seg.start_date, seg.end_date,
                seg.days, Literal(self.cycle_days), NULL_INT, NULL_INT,
                NULL_INT, NULL_INT, template.monthly_fee,
                from_cents(self._fee(template, seg.days)), NULL_INT,
                *self._stamp()))

    def _insert_fees(self):
        "Plan fees and service fees, in one statement"
        self._insert_lines(Union(self._plan_fees(), self._service_fees(),
                all_=True).select())

    def _service_in_cycle(self, service):
        """A service's days clipped to the cycle, and whether it overlaps
        it: (start, end, condition), as SQL"""
        start = Greatest(Coalesce(service.start_date, self.start), self.start)
        end = Least(Coalesce(service.end_date, self.end), self.end)
        overlaps = (((service.start_date == Null)
                | (service.start_date < self.end))
            & ((service.end_date == Null)
                | (service.end_date > self.start)))
        return start, end, overlaps

    def _services(self):
        """Services of the batch's lines that have a plan in the cycle,
        clipped to it: (account, subscriber, product, start_date,
        end_date, days)"""
        pool = Pool()
        subscriber = pool.get('telecom.subscriber').__table__()
        service = pool.get('telecom.subscriber.service').__table__()
        period = pool.get('telecom.subscriber.plan').__table__()
        start, end, overlaps = self._service_in_cycle(service)
        clipped = service.join(subscriber,
            condition=service.subscriber == subscriber.id
            ).select(subscriber.account.as_('account'),
            service.subscriber.as_('subscriber'),
            service.product.as_('product'),
            start.as_('start_date'), end.as_('end_date'),
            where=self._in_lines(service.subscriber) & overlaps
            & Exists(period.select(period.id,
                    where=(period.subscriber == service.subscriber)
                    & self._in_cycle(period))))
        days = days_between(clipped.end_date, clipped.start_date)
        return clipped.select(clipped.account, clipped.subscriber,
            clipped.product, clipped.start_date, clipped.end_date,
            days.as_('days'), where=days > 0)

    def _service_fees(self):
        srv = self._services()
        bills, template = self._bills(), self.template
        kind = Case((template.telecom_type == 'addon', 'addon_fee'),
            else_='vas_fee')
        return (srv.join(bills,
                condition=bills.column1 == srv.account
                ).join(template, condition=template.id == srv.product
                ).select(bills.column2, srv.subscriber, sequence(kind), kind,
                Literal(False), srv.product, srv.start_date, srv.end_date,
                srv.days, Literal(self.cycle_days), NULL_INT, NULL_INT,
                NULL_INT, NULL_INT, template.monthly_fee,
                from_cents(self._fee(template, srv.days)), NULL_INT,
                *self._stamp()))

    # --- usage ----------------------------------------------------------------

    def _prorated_allowance(self, template, type_, days, cycle_days=None):
        "Allowance for days of a cycle, rounded down"
        cycle_days = cycle_days or Literal(self.cycle_days)
        return Div(allowance(template, type_) * Least(days, cycle_days),
            cycle_days)

    def _addon_allowance(self, subscriber, type_):
        """The cycle's add-on allowance of a line for a usage type, as a
        subquery run for each usage row through the services' index on the
        line (a join would follow the planner's guess of how many rows the
        batch has, which it cannot know, and could compare every row with
        every add-on)"""
        pool = Pool()
        service = pool.get('telecom.subscriber.service').__table__()
        template = pool.get('product.template').__table__()
        start, end, overlaps = self._service_in_cycle(service)
        days = days_between(end, start)
        return service.join(template,
            condition=(template.id == service.product)
            & (template.telecom_type == 'addon')
            ).select(Coalesce(Sum(self._prorated_allowance(template, type_,
                        days)), 0),
            where=(service.subscriber == subscriber) & overlaps
            & (days > 0))

    def _usage_totals(self, late):
        RunUsage = Pool().get('telecom.bill.run.usage')
        total = RunUsage.__table__()
        late_bill = total.late_bill != Null
        return total.select(total.account.as_('account'),
            total.subscriber.as_('subscriber'), total.period.as_('period'),
            total.late_bill.as_('late_bill'), total.type.as_('type'),
            total.kind.as_('kind'), Sum(total.units).as_('units'),
            Sum(total.count).as_('count'), Sum(total.charge).as_('charge'),
            where=(total.run == self.run.id)
            & self._in_accounts(total.account)
            & (late_bill if late else ~late_bill),
            group_by=[total.account, total.subscriber, total.period,
                total.late_bill, total.type, total.kind])

    def _usage_lines(self, rows, late):
        """The bill lines of usage rows that carry: account, subscriber,
        plan, kind, type, units, count, charge, start_date, end_date, days,
        cycle_days, plan allowance left and add-on allowance"""
        bills, template = self._bills(), self.template
        domestic = rows.kind == rows.type
        included = Case((domestic, Least(rows.units, rows.allowance)))
        left = rows.units - Coalesce(included, 0)
        # add-ons are drawn in the order of the plan periods
        drawn_before = Sum(left, window=Window(
                [rows.subscriber, rows.kind],
                order_by=[rows.start_date.asc]))
        drawn = rows.join(bills, condition=bills.column1 == rows.account
            ).join(template, condition=template.id == rows.plan
            ).select(bills.column2.as_('bill'), rows.subscriber, rows.plan,
            rows.kind, rows.type, rows.units, rows.count, rows.charge,
            rows.start_date, rows.end_date, rows.days, rows.cycle_days,
            rows.addon.as_('addon'), included.as_('included'),
            left.as_('left'), (drawn_before - left).as_('before'),
            rate(template, rows.kind).as_('rate'))
        from_addon = Case((drawn.kind == drawn.type, Greatest(0, Least(
                        drawn.left, drawn.addon - drawn.before))))
        billable = Case(
            (drawn.kind.like('rated_%'), drawn.count),
            else_=billable_units(drawn.type,
                drawn.left - Coalesce(from_addon, 0)))
        amount = Case(
            (drawn.kind.like('rated_%'), cents(drawn.charge)),
            else_=Div(billable * cents(drawn.rate, 4) + 50, 100))
        self._insert_lines(drawn.select(drawn.bill, drawn.subscriber,
                Literal(LATE_SEQUENCE) if late else sequence(drawn.kind),
                drawn.kind, Literal(late), drawn.plan, drawn.start_date,
                drawn.end_date, drawn.days, drawn.cycle_days, drawn.units,
                drawn.included, from_addon, billable,
                Case((~drawn.kind.like('rated_%'), drawn.rate)),
                from_cents(amount), NONE, *self._stamp()))

    def _insert_usage_lines(self):
        """Domestic usage draws on the plan of its day (prorated), then on
        the cycle's add-ons; roaming and pre-rated usage never does"""
        seg = self._segments()
        totals = self._usage_totals(late=False)
        template = self.template
        rows = totals.join(seg, condition=seg.period == totals.period
            ).join(template, condition=template.id == seg.plan
            ).select(totals.account, totals.subscriber, seg.plan.as_('plan'),
            totals.kind, totals.type, totals.units, totals.count,
            totals.charge, seg.start_date, seg.end_date, seg.days,
            Literal(self.cycle_days).as_('cycle_days'),
            self._prorated_allowance(template, totals.type, seg.days
                ).as_('allowance'),
            self._addon_column(totals))
        self._usage_lines(rows, late=False)

    def _addon_column(self, totals):
        """The add-on allowance of usage totals, asked only for the domestic
        usage of the batch's lines that have an add-on in the cycle (one
        line in ten, mostly)"""
        pool = Pool()
        service = pool.get('telecom.subscriber.service').__table__()
        template = pool.get('product.template').__table__()
        _, _, overlaps = self._service_in_cycle(service)
        cursor = Transaction().connection.cursor()
        execute_planned(cursor, service.join(template,
                condition=(template.id == service.product)
                & (template.telecom_type == 'addon')
                ).select(service.subscriber,
                where=self._in_lines(service.subscriber) & overlaps,
                group_by=[service.subscriber]))
        with_addon = [s for s, in cursor]
        if not with_addon:
            return Literal(0).as_('addon')
        return Case(((totals.kind == totals.type)
                & in_ids(totals.subscriber, with_addon),
                self._addon_allowance(totals.subscriber, totals.type)),
            else_=0).as_('addon')

    def _insert_late_lines(self):
        """Usage that arrived after its cycle was billed: rated on the plan
        of its day, drawing on what its cycle's bills left of that plan's
        allowance (add-ons are settled with their cycle)"""
        pool = Pool()
        total = pool.get('telecom.bill.run.usage').__table__()
        cursor = Transaction().connection.cursor()
        # mostly there is none: a look at the totals, not the statement
        execute_planned(cursor, total.select(Literal(1),
                where=(total.run == self.run.id)
                & self._in_accounts(total.account)
                & (total.late_bill != Null), limit=1))
        if cursor.fetchone() is None:
            return
        period = pool.get('telecom.subscriber.plan').__table__()
        old = pool.get('telecom.bill').__table__()
        billed = self.line_table
        totals = self._usage_totals(late=True)
        template = self.template
        old_end = day_after(old.period_end)
        clipped = totals.join(old, condition=old.id == totals.late_bill
            ).join(period, condition=period.id == totals.period
            ).select(totals.account, totals.subscriber, totals.kind,
            totals.type, totals.units, totals.count, totals.charge,
            period.plan.as_('plan'),
            Greatest(period.start_date, old.period_start).as_('start_date'),
            Least(Coalesce(period.end_date, old_end), old_end
                ).as_('end_date'),
            days_between(old_end, old.period_start).as_('cycle_days'))
        days = days_between(clipped.end_date, clipped.start_date)
        # what the bills of that cycle already drew from the allowance
        used = billed.select(Coalesce(Sum(billed.included), 0),
            where=(billed.subscriber == clipped.subscriber)
            & (billed.kind == clipped.kind)
            & (billed.product == clipped.plan)
            & (billed.start_date == clipped.start_date))
        rows = clipped.join(template, condition=template.id == clipped.plan
            ).select(clipped.account, clipped.subscriber, clipped.plan,
            clipped.kind, clipped.type, clipped.units, clipped.count,
            clipped.charge, clipped.start_date, clipped.end_date,
            days.as_('days'), clipped.cycle_days,
            Greatest(0, self._prorated_allowance(template, clipped.type,
                    days, clipped.cycle_days) - used).as_('allowance'),
            Literal(0).as_('addon'))
        self._usage_lines(rows, late=True)

    # --- adjustments, totals, ledger ------------------------------------------

    def _insert_adjustments(self):
        """Approved adjustments not billed yet (a few per batch, read
        first); they are linked to their bill once it is written"""
        Adjustment = Pool().get('telecom.bill.adjustment')
        adjustment = Adjustment.__table__()
        cursor = Transaction().connection.cursor()
        execute_planned(cursor, adjustment.select(adjustment.id, adjustment.account,
                where=self._in_accounts(adjustment.account)
                & (adjustment.state == 'approved')
                & (adjustment.bill == Null)))
        self.adjustments = pending = [[i, self.bill_ids[a]]
            for i, a in cursor if a in self.bill_ids]
        if not pending:
            return
        bills = Values(pending)
        self._insert_lines(adjustment.join(bills,
                condition=bills.column1 == adjustment.id
                ).select(bills.column2, adjustment.subscriber,
                Literal(SEQUENCES['adjustment']), Literal('adjustment'),
                Literal(False), NONE, NONE, NONE, NONE, NONE, NONE, NONE,
                NONE, NONE, NONE, from_cents(cents(adjustment.amount)),
                adjustment.id, *self._stamp()))

    def _insert_extra_lines(self):
        "Lines other modules add once the usage and adjustments are in"

    def _link_adjustments(self):
        if not self.adjustments:
            return
        adjustment = Pool().get('telecom.bill.adjustment').__table__()
        bills = Values(self.adjustments)
        self._execute(adjustment.update([adjustment.bill], [bills.column2],
                from_=[bills], where=adjustment.id == bills.column1))

    def bill(self, issue_date, due_date):
        "Write the bills of the batch; returns {bill id: (account, amount)}"
        pool = Pool()
        Bill = pool.get('telecom.bill')
        Line = pool.get('telecom.bill.line')
        Adjustment = pool.get('telecom.bill.adjustment')
        Movement = pool.get('telecom.account.movement')
        without_jit()
        self._reserve_bills()
        if not self.bill_ids:
            return {}
        self._insert_fees()
        self._insert_usage_lines()
        self._insert_late_lines()
        self._insert_adjustments()
        self._insert_extra_lines()
        # the bills add up their lines through the index on the bill
        analyze_if_empty(Line, self.lines_written)
        self._insert_bills(issue_date, due_date)
        self._link_adjustments()
        analyze_if_empty(Bill, len(self.bill_ids))
        bill = self.bill_table
        cursor = Transaction().connection.cursor()
        execute_planned(cursor, bill.select(bill.id, bill.account, bill.amount,
                where=in_ids(bill.id,
                    list(self.bill_ids.values()))))
        bills = {b: (a, amount) for b, a, amount in cursor}
        # the bill is owed: it takes its amount off the balance
        Movement.post({'account': a, 'kind': 'bill', 'amount': -amount,
                'origin': 'telecom.bill,%s' % b}
            for b, (a, amount) in bills.items() if amount)
        clear_cache(Bill, list(bills))
        clear_cache(Line)
        clear_cache(Adjustment)
        return bills
