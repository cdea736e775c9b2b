"""The usage of a bill run's cycle, read once.

When a run starts it fixes the last usage record it bills (its watermark)
and adds up, in one statement per part of its lines (parts the queue
workers add up side by side), every record of its accounts up to that
watermark: per line, plan period and bill line kind, for the cycle, and
for the records of earlier cycles that arrived after those were billed
(late usage). The batches then rate from these totals (a few hundred
thousand rows for millions of records) instead of reading the usage table
again; the totals go when the run is done."""
from sql import Literal, Null
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case
from sql.operators import Concat

from trytond import backend
from trytond.model import Index, ModelSQL, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from crm_telecom.sql_tools import day_after, day_of, without_jit


class BillRunUsage(ModelSQL):
    "Usage totals of a bill run"
    __name__ = 'telecom.bill.run.usage'

    # plain ids, no foreign keys: a work table written once per run (a
    # few hundred thousand rows) and emptied when the run is done; checking
    # five references per row would cost more than adding the usage up
    run = fields.Integer("Bill Run", required=True)
    account = fields.Integer("Account", required=True)
    subscriber = fields.Integer("Line", required=True)
    period = fields.Integer("Plan Period", required=True)
    late_bill = fields.Integer("Bill of the Cycle",
        help="Set for late usage: the bill that covered its day.")
    type = fields.Char("Type", required=True)
    kind = fields.Char("Bill Line Kind", required=True)
    units = fields.Integer("Units", required=True)
    count = fields.Integer("Records", required=True)
    charge = fields.Numeric("Pre-Rated Charge")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.run, Index.Range()), (t.account, Index.Range())),
                # each batch asks whether it has late usage: mostly not
                Index(t, (t.run, Index.Range()), (t.account, Index.Range()),
                    where=t.late_bill != Null),
                })

    @classmethod
    def collect(cls, run, part=None):
        """Add up the usage run bills (once, when it starts), of the lines
        of part when given"""
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        columns = [table.run, table.account, table.subscriber, table.period,
            table.late_bill, table.type, table.kind, table.units,
            table.count, table.charge]
        cursor.execute(*table.delete(
                where=(table.run == run.id) & cls._of_part(table, part)))
        without_jit()
        for query in [cls._cycle_query(run, part), cls._late_query(run, part)]:
            cursor.execute(*table.insert(columns, query))
        if backend.name == 'postgresql':
            # the batches join these totals: without statistics the planner
            # takes them for a row and loops over the add-ons for each
            cursor.execute('ANALYZE "%s"' % cls._table)

    @classmethod
    def clear(cls, runs):
        if not runs:
            return
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.delete(
                where=table.run.in_([r.id for r in runs])))
        Part = Pool().get('telecom.bill.run.part')
        Part.delete(Part.search([('run', 'in', [r.id for r in runs])]))

    @staticmethod
    def _of_part(usage, part):
        "The rows of the part's lines (of a table with a line), as SQL"
        if not part:
            return Literal(True)
        return ((usage.subscriber >= part.first)
            & (usage.subscriber <= part.last))

    @classmethod
    def _tables(cls):
        pool = Pool()
        return (pool.get('telecom.usage').__table__(),
            pool.get('telecom.subscriber').__table__(),
            pool.get('telecom.account').__table__(),
            pool.get('telecom.subscriber.plan').__table__())

    @staticmethod
    def _grouped(usage, query_from, where, run, account, period, late_bill,
            counted=None, rated=None):
        """Totals grouped on plain columns (PostgreSQL does not match a
        grouped expression that carries parameters), then given their
        kind: rated records before roaming ones, as usage_kind() says.
        usage: records, or totals of records when counted (their count)
        and rated (whether pre-rated) are given"""
        if rated is None:
            rated = usage.charge != Null
        count = Count(usage.id) if counted is None else Sum(counted)
        keys = [account, usage.subscriber, period, usage.type, usage.roaming]
        if late_bill is not None:
            keys.append(late_bill)
        grouped = query_from.select(account.as_('account'),
            usage.subscriber.as_('subscriber'), period.as_('period'),
            usage.type.as_('type'), usage.roaming.as_('roaming'),
            rated.as_('rated'),
            Sum(usage.units).as_('units'), count.as_('count'),
            Sum(usage.charge).as_('charge'),
            *([late_bill.as_('late_bill')] if late_bill is not None else []),
            where=where, group_by=keys + [rated])
        return grouped.select(Literal(run.id), grouped.account,
            grouped.subscriber, grouped.period,
            grouped.late_bill if late_bill is not None
            else Literal(None).cast('INTEGER'),
            grouped.type,
            Case((grouped.rated, Concat('rated_', grouped.type)),
                (grouped.roaming == Literal(True),
                    Concat('roaming_', grouped.type)),
                else_=grouped.type),
            grouped.units, grouped.count, grouped.charge,
            # written in the order of the index the batches read them by
            order_by=[grouped.account])

    @classmethod
    def _cycle_query(cls, run, part=None):
        """The cycle's records up to the watermark, added up per line
        before they meet the lines and plan periods: the joins then take a
        row per line and kind instead of one per record. Only the records
        of lines whose plan changed, started or ended within the cycle
        are kept apart by day, to find the plan period of each."""
        usage, subscriber, account, period = cls._tables()
        changed = Pool().get('telecom.subscriber.plan').__table__()
        start, end = run.period_start, run._end
        partial = changed.select(changed.subscriber,
            where=(changed.start_date < end)
            & ((changed.end_date == Null) | (changed.end_date > start))
            & ((changed.start_date > start)
                | ((changed.end_date != Null) & (changed.end_date < end))))
        records = usage.select(usage.id, usage.subscriber, usage.type,
            usage.roaming, usage.units, usage.charge,
            Case((usage.subscriber.in_(partial), day_of(usage.start))
                ).as_('day'),
            where=(usage.start >= start) & (usage.start < end)
            & (usage.id <= run.usage_until) & cls._of_part(usage, part))
        per_line = records.select(records.subscriber, records.type,
            records.roaming, records.day,
            Sum(records.units).as_('units'), Count(records.id).as_('count'),
            Sum(records.charge).as_('charge'),
            (records.charge != Null).as_('rated'),
            # the line last: grouped first on it, the planner would read
            # the month through the index on (line, start), at random
            group_by=[records.type, records.roaming, records.day,
                records.charge != Null, records.subscriber])
        query_from = per_line.join(subscriber,
            condition=per_line.subscriber == subscriber.id
            ).join(account, condition=subscriber.account == account.id
            ).join(period, condition=(period.subscriber == per_line.subscriber)
            & (period.start_date < end)
            & ((period.end_date == Null) | (period.end_date > start))
            & ((per_line.day == Null)
                | ((per_line.day >= period.start_date)
                    & ((period.end_date == Null)
                        | (per_line.day < period.end_date)))))
        where = account.bill_cycle_day == start.day
        return cls._grouped(per_line, query_from, where, run, account.id,
            period.id, None, counted=per_line.count,
            rated=per_line.rated)

    @classmethod
    def _late_query(cls, run, part=None):
        """Records of earlier cycles of the accounts that came after the
        last bill of their account was made, up to the watermark"""
        pool = Pool()
        Bill = pool.get('telecom.bill')
        usage, subscriber, account, period = cls._tables()
        bill = Bill.__table__()
        last = Bill.__table__()
        # per account: the watermark of its last bill before this cycle
        previous = last.select(last.account.as_('account'),
            Max(last.usage_until).as_('usage_until'),
            where=last.period_start < run.period_start,
            group_by=[last.account])
        floor = previous.select(Min(previous.usage_until))
        query_from = usage.join(subscriber,
            condition=usage.subscriber == subscriber.id
            ).join(account, condition=subscriber.account == account.id
            ).join(previous, condition=previous.account == account.id
            ).join(bill, condition=(bill.account == account.id)
            & (usage.start >= bill.period_start)
            & (usage.start < day_after(bill.period_end))
            ).join(period, condition=(period.subscriber == usage.subscriber)
            & (usage.start >= period.start_date)
            & ((period.end_date == Null) | (usage.start < period.end_date)))
        where = ((usage.start < run.period_start)
            # the bound every account shares first: the index on id and
            # the months' partitions leave out everything billed before
            & (usage.id > floor)
            & (usage.id > previous.usage_until)
            & (usage.id <= run.usage_until)
            & (account.bill_cycle_day == run.period_start.day)
            & cls._of_part(usage, part))
        return cls._grouped(usage, query_from, where, run, account.id,
            period.id, bill.id)


class BillRunPart(ModelSQL):
    """Lines of a bill run whose usage one task adds up: started from the
    client, a run's usage is added up in parts side by side by the queue
    workers, and its slices are billed once every part is"""
    __name__ = 'telecom.bill.run.part'

    run = fields.Many2One('telecom.bill.run', "Bill Run", required=True,
        ondelete='CASCADE')
    first = fields.Integer("First Line", required=True)
    last = fields.Integer("Last Line", required=True)
    collected = fields.Boolean("Added Up")

    @classmethod
    def default_collected(cls):
        return False

    @classmethod
    def collect(cls, parts):
        "Add up the usage of parts, in this transaction"
        RunUsage = Pool().get('telecom.bill.run.usage')
        for part in parts:
            RunUsage.collect(part.run, part)
        cls.write(list(parts), {'collected': True})

    @classmethod
    def split(cls, run, count):
        """count parts of the lines, by ranges of their ids (lines are
        numbered as they come, so the ranges hold about as many)"""
        Subscriber = Pool().get('telecom.subscriber')
        subscriber = Subscriber.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*subscriber.select(
                Min(subscriber.id), Max(subscriber.id)))
        low, high = cursor.fetchone()
        low, high = low or 0, high or 0
        size = -(-(high - low + 1) // count)
        return cls.create([{'run': run.id, 'first': low + i * size,
                    'last': min(high, low + (i + 1) * size - 1)}
                for i in range(count) if low + i * size <= high]
            or [{'run': run.id, 'first': 0, 'last': 0}])
