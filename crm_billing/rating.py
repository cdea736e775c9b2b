"""Rating of one bill cycle for a batch of accounts.

Everything is read with a fixed number of set-based queries per batch (plan
periods, services, aggregated usage, adjustments) and written back the same
way (bills, lines, usage links, movements); the arithmetic in between runs in
Python, per line of the bill, never per usage record."""
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from sql import Literal, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Case
from sql.operators import Concat

from trytond import backend
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool
from trytond.tools import grouped_slice, sqlite_apply_types
from trytond.transaction import Transaction

from crm_telecom.bulk import BulkWriter
from crm_telecom.money import prorate
from crm_telecom.sql_tools import clear_cache

CENT = Decimal('0.01')
KB_PER_MB = 1024
# allowance field of a plan or add-on for each usage type
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
LINE_COLUMNS = ['bill', 'subscriber', 'sequence', 'kind', 'product',
    'start_date', 'end_date', 'days', 'cycle_days', 'quantity', 'included',
    'addon_included', 'billable', 'rate', 'amount', 'adjustment']


def money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def billable_units(type_, units):
    "Charged units: data is charged per started MB, the rest as counted"
    if type_ == 'data':
        return -(-units // KB_PER_MB)
    return units


def usage_kind(usage):
    "Bill line kind of a usage row, as an SQL expression"
    return Case(
        (usage.charge != Null, Concat('rated_', usage.type)),
        (usage.roaming == Literal(True), Concat('roaming_', usage.type)),
        else_=usage.type)


class Rating:
    "Bills of one cycle [start, end) for a batch of account ids"

    def __init__(self, run, start, end, account_ids):
        self.run = run
        self.start = start
        self.end = end
        self.cycle_days = (end - start).days
        self.account_ids = list(account_ids)
        self.products = self._products()

    # --- reading -------------------------------------------------------------

    def _in_accounts(self, column):
        return SQL_OPERATORS['in'](column, self.account_ids)

    def _products(self):
        Template = Pool().get('product.template')
        fields = ['monthly_fee', 'voice_minutes', 'sms_count', 'data_mb',
            'telecom_type'] + list(RATE_FIELDS.values())
        return {p['id']: p for p in Template.search_read(
                [('telecom_type', '!=', None)], fields_names=fields)}

    def _accounts(self):
        pool = Pool()
        Account = pool.get('telecom.account')
        account = Account.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*account.select(account.id, account.payer,
                account.code, where=self._in_accounts(account.id)))
        return cursor.fetchall()

    def _plan_periods(self):
        "Plan periods of the accounts' lines that overlap the cycle"
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        PlanPeriod = pool.get('telecom.subscriber.plan')
        subscriber = Subscriber.__table__()
        period = PlanPeriod.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*period.join(subscriber,
                condition=period.subscriber == subscriber.id
                ).select(subscriber.account, period.subscriber, period.id,
                period.plan, period.start_date, period.end_date,
                where=self._in_accounts(subscriber.account)
                & (period.start_date < self.end)
                & ((period.end_date == Null)
                    | (period.end_date > self.start)),
                order_by=[period.subscriber, period.start_date, period.id]))
        return cursor.fetchall()

    def _services(self):
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        Service = pool.get('telecom.subscriber.service')
        subscriber = Subscriber.__table__()
        service = Service.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*service.join(subscriber,
                condition=service.subscriber == subscriber.id
                ).select(service.subscriber, service.product,
                service.start_date, service.end_date,
                where=self._in_accounts(subscriber.account)
                & ((service.start_date == Null)
                    | (service.start_date < self.end))
                & ((service.end_date == Null)
                    | (service.end_date > self.start)),
                order_by=[service.subscriber, service.id]))
        return cursor.fetchall()

    def _usage_totals(self):
        """Usage summed per line, plan period and bill line kind: rows of
        (subscriber, period, kind, units, count, charge) of the batch's
        usage in the cycle not yet billed"""
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        PlanPeriod = pool.get('telecom.subscriber.plan')
        Usage = pool.get('telecom.usage')
        usage = Usage.__table__()
        subscriber = Subscriber.__table__()
        period = PlanPeriod.__table__()
        join = usage.join(subscriber,
            condition=usage.subscriber == subscriber.id
            ).join(period, condition=(period.subscriber == usage.subscriber)
            & (usage.start >= period.start_date)
            & ((period.end_date == Null) | (usage.start < period.end_date)))
        where = (self._in_accounts(subscriber.account)
            & (usage.start >= self.start) & (usage.start < self.end)
            & (usage.bill_line == Null))
        # grouped on plain columns: PostgreSQL does not match a grouped
        # expression that carries parameters
        rated = usage.charge != Null
        query = join.select(usage.subscriber, period.id, usage.type,
            usage.roaming, rated, Sum(usage.units), Count(usage.id),
            Sum(usage.charge).as_('charge'), where=where,
            group_by=[usage.subscriber, period.id, usage.type,
                usage.roaming, rated])
        if backend.name == 'sqlite':
            sqlite_apply_types(query, [None] * 7 + ['NUMERIC'])
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        totals = defaultdict(lambda: [0, 0, Decimal(0)])
        for subscriber, period_id, type_, roaming, rated, units, count, \
                charge in cursor:
            # the rule of usage_kind(), which the usage links use
            if rated:
                kind = 'rated_' + type_
            elif roaming:
                kind = 'roaming_' + type_
            else:
                kind = type_
            total = totals[subscriber, period_id, kind]
            total[0] += int(units or 0)
            total[1] += count
            total[2] += charge or 0
        return [key + tuple(value) for key, value in totals.items()]

    def _adjustments(self):
        Adjustment = Pool().get('telecom.bill.adjustment')
        adjustment = Adjustment.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*adjustment.select(adjustment.id, adjustment.account,
                adjustment.subscriber, adjustment.amount,
                where=self._in_accounts(adjustment.account)
                & (adjustment.state == 'approved')
                & (adjustment.bill == Null),
                order_by=[adjustment.id]))
        return cursor.fetchall()

    # --- computing -------------------------------------------------------------

    def _clip(self, start, end):
        "Days of [start, end) inside the cycle, clipped bounds"
        start = max(start or self.start, self.start)
        end = min(end or self.end, self.end)
        return start, end, max((end - start).days, 0)

    def compute(self):
        """Lines per account: {account id: [line values]} (bill column
        left empty) and the adjustments they bill"""
        lines = defaultdict(list)
        periods = self._plan_periods()
        segments = {}  # plan period id → (subscriber, plan, start, end, days)
        account_of = {}
        for account, subscriber, period, plan, start, end in periods:
            start, end, days = self._clip(start, end)
            if not days:
                continue
            account_of[subscriber] = account
            segments[period] = (subscriber, plan, start, end, days)
            product = self.products[plan]
            fee = product['monthly_fee'] or Decimal(0)
            lines[account].append(self._line(subscriber, 'plan_fee',
                    product=plan, start_date=start, end_date=end, days=days,
                    rate=fee, amount=money(
                        prorate(fee, days, self.cycle_days))))

        addon_allowance = defaultdict(int)  # (subscriber, type) → units
        for subscriber, product_id, start, end in self._services():
            account = account_of.get(subscriber)
            start, end, days = self._clip(start, end)
            if account is None or not days:
                continue
            product = self.products[product_id]
            fee = product['monthly_fee'] or Decimal(0)
            kind = ('addon_fee' if product['telecom_type'] == 'addon'
                else 'vas_fee')
            lines[account].append(self._line(subscriber, kind,
                    product=product_id, start_date=start, end_date=end,
                    days=days, rate=fee,
                    amount=money(prorate(fee, days, self.cycle_days))))
            if kind == 'addon_fee':
                for type_ in ALLOWANCE_FIELDS:
                    addon_allowance[subscriber, type_] += self._allowance(
                        product, type_, days)

        # domestic usage first draws on the plan of its day (prorated),
        # then on the add-ons of the cycle, in the order of the periods
        totals = sorted(self._usage_totals(),
            key=lambda r: (r[0], segments[r[1]][2] if r[1] in segments
                else self.start, r[2]))
        for subscriber, period, kind, units, count, charge in totals:
            if period not in segments:
                continue
            _, plan, start, end, days = segments[period]
            account = account_of[subscriber]
            units = int(units or 0)
            product = self.products[plan]
            values = dict(product=plan, start_date=start, end_date=end,
                days=days, quantity=units)
            if kind.startswith('rated_'):
                values.update(billable=int(count),
                    amount=money(charge or 0))
            elif kind.startswith('roaming_'):
                type_ = kind[len('roaming_'):]
                rate = product[RATE_FIELDS[kind]] or Decimal(0)
                billable = billable_units(type_, units)
                values.update(billable=billable, rate=rate,
                    amount=money(billable * rate))
            else:
                included = min(units, self._allowance(product, kind, days))
                left = units - included
                from_addon = min(left, addon_allowance[subscriber, kind])
                addon_allowance[subscriber, kind] -= from_addon
                billable = billable_units(kind, left - from_addon)
                rate = product[RATE_FIELDS[kind]] or Decimal(0)
                values.update(included=included, addon_included=from_addon,
                    billable=billable, rate=rate,
                    amount=money(billable * rate))
            lines[account].append(self._line(subscriber, kind, **values))

        adjustments = self._adjustments()
        for adjustment, account, subscriber, amount in adjustments:
            lines[account].append(self._line(subscriber, 'adjustment',
                    amount=money(amount), adjustment=adjustment))
        return lines, [a[0] for a in adjustments]

    def _allowance(self, product, type_, days):
        "Allowance in rated units, prorated by days (rounded down)"
        value = product[ALLOWANCE_FIELDS[type_]] or 0
        if type_ == 'data':
            value *= KB_PER_MB
        return value * min(days, self.cycle_days) // self.cycle_days

    def _line(self, subscriber, kind, **values):
        line = dict.fromkeys(LINE_COLUMNS)
        line.update(subscriber=subscriber, kind=kind,
            sequence=SEQUENCES[kind], cycle_days=self.cycle_days, **values)
        return line

    # --- writing ---------------------------------------------------------------

    def bill(self, issue_date, due_date):
        "Write the bills of the batch; returns {bill id: (account, amount)}"
        pool = Pool()
        Bill = pool.get('telecom.bill')
        Line = pool.get('telecom.bill.line')
        Usage = pool.get('telecom.usage')
        Adjustment = pool.get('telecom.bill.adjustment')
        Movement = pool.get('telecom.account.movement')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        lines, adjustment_ids = self.compute()
        accounts = self._accounts()
        if not accounts:
            return {}

        bill = Bill.__table__()
        prefix = 'B%s-' % self.start.strftime('%Y%m')
        amounts = {a: sum((l['amount'] for l in lines.get(a, [])),
                Decimal(0)) for a, _, _ in accounts}
        bills = BulkWriter(Bill, ['code', 'account', 'payer', 'run',
                'period_start', 'period_end', 'date', 'due_date', 'amount',
                'state'], ids=True)
        period_end = self.end - dt.timedelta(days=1)
        bill_ids = dict(zip((a for a, _, _ in accounts), bills.write([
                        (prefix + (code or str(account)), account, payer,
                            self.run, self.start, period_end, issue_date,
                            due_date, amounts[account], 'issued')
                        for account, payer, code in accounts])))

        line = Line.__table__()
        rows = []
        for account, account_lines in lines.items():
            for values in account_lines:
                values['bill'] = bill_ids[account]
                rows.append([values[c] for c in LINE_COLUMNS])
        BulkWriter(Line, LINE_COLUMNS).write(rows)

        # every usage row points at the line that charged it: UPDATE ...
        # FROM writes only the rows it links, found through the
        # (subscriber, start) index from the lines of the batch
        usage = Usage.__table__()
        bills_of_batch = list(bill_ids.values())
        for sub_bills in grouped_slice(bills_of_batch, 1000):
            cursor.execute(*usage.update([usage.bill_line], [line.id],
                    from_=[line],
                    where=SQL_OPERATORS['in'](line.bill, list(sub_bills))
                    & (usage.subscriber == line.subscriber)
                    & (usage.start >= line.start_date)
                    & (usage.start < line.end_date)
                    & (line.kind == usage_kind(usage))
                    & (usage.start >= self.start)
                    & (usage.start < self.end)
                    & (usage.bill_line == Null)))

        adjustment = Adjustment.__table__()
        for sub_ids in grouped_slice(adjustment_ids, 1000):
            cursor.execute(*adjustment.update([adjustment.bill],
                    [bill.select(bill.id,
                            where=(bill.account == adjustment.account)
                            & (bill.period_start == self.start))],
                    where=SQL_OPERATORS['in'](adjustment.id, list(sub_ids))))

        # the bill is owed: it takes its amount off the balance
        Movement.post({'account': a, 'kind': 'bill', 'amount': -amounts[a],
                'origin': 'telecom.bill,%s' % b}
            for a, b in bill_ids.items() if amounts[a])
        clear_cache(Usage)
        clear_cache(Adjustment, adjustment_ids)
        return {b: (a, amounts[a]) for a, b in bill_ids.items()}

