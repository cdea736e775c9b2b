"""Accounts in arrears: the daily dunning run, restoration on payment.

An account is in arrears when
- postpaid: its balance is negative and its oldest unpaid bill is past due;
- prepaid: its balance is below the configured threshold.
Bills are paid oldest first (FIFO): a bill is unpaid while the debt of the
account is not covered by the bills issued after it.

The account keeps where it stands (overdue since, the highest stage
reached: what the arrears list sorts and filters on); its dunnings keep
what happened at each stage.
"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql import Literal, Union
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import Index, fields
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.bulk import BulkWriter

from . import sms


class Account(metaclass=PoolMeta):
    __name__ = 'telecom.account'

    dunning_stage = fields.Many2One('telecom.dunning.stage', "Dunning Stage",
        readonly=True, ondelete='RESTRICT',
        help="Highest dunning stage reached since the account fell into "
        "arrears.")
    overdue_since = fields.Date("Overdue Since", readonly=True,
        help="Due date of the oldest unpaid bill (postpaid) or the day "
        "the balance fell below the threshold (prepaid). Empty when the "
        "account is not in arrears.")
    days_overdue = fields.Function(fields.Integer("Days Overdue"),
        'get_days_overdue', searcher='search_days_overdue')
    arrears = fields.Function(fields.Numeric("Amount Owed", digits=(16, 2),
            help="What the payer owes (the negative balance)."),
        'get_arrears', searcher='search_arrears')
    dunnings = fields.One2Many('telecom.dunning', 'account', "Dunnings",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.overdue_since, Index.Range()),
                    where=t.overdue_since != None),  # noqa: E711
                Index(t, (t.balance, Index.Range())),
                })

    @classmethod
    def copy(cls, accounts, default=None):
        # a copy starts with no debt (readonly dunnings are not copied)
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_stage', None)
        default.setdefault('overdue_since', None)
        return super().copy(accounts, default=default)

    # --- computed fields --------------------------------------------------

    def get_days_overdue(self, name):
        if self.overdue_since:
            today = Pool().get('ir.date').today()
            return max((today - self.overdue_since).days, 0)

    @classmethod
    def search_days_overdue(cls, name, clause):
        _, operator, value = clause[:3]
        today = Pool().get('ir.date').today()
        # more days overdue is an earlier date
        flip = {'>': '<', '>=': '<=', '<': '>', '<=': '>=',
            '=': '=', '!=': '!='}
        if value is None:
            return [('overdue_since', operator, None)]
        if operator in {'in', 'not in'}:
            return [('overdue_since', operator,
                    [today - dt.timedelta(days=int(v)) for v in value])]
        return [('overdue_since', flip[operator],
                today - dt.timedelta(days=int(value)))]

    def get_arrears(self, name):
        if self.balance is not None and self.balance < 0:
            return -self.balance
        return Decimal('0.00')

    @classmethod
    def search_arrears(cls, name, clause):
        _, operator, value = clause[:3]
        table = cls.__table__()
        Operator = SQL_OPERATORS[operator]
        owed = Case((table.balance < 0, -table.balance), else_=Literal(0))
        query = table.select(table.id, where=Operator(owed, value))
        return [('id', 'in', query)]

    # --- arrears ----------------------------------------------------------

    @classmethod
    def arrears_status(cls, account_ids, date=None):
        """{account id: (in arrears, overdue since)}; for prepaid accounts
        overdue since is None (it is the day the run notices it)"""
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        date = date or pool.get('ir.date').today()
        threshold = Configuration(1).prepaid_suspend_threshold or 0
        account = cls.__table__()
        cursor = Transaction().connection.cursor()
        oldest_due = cls.settle_bills(account_ids)
        status = {}
        for sub_ids in grouped_slice(list(account_ids), 1000):
            cursor.execute(*account.select(account.id, account.payment_type,
                    account.balance,
                    where=SQL_OPERATORS['in'](account.id, list(sub_ids))))
            for account_id, payment_type, balance in cursor:
                balance = balance or Decimal(0)
                if payment_type == 'prepaid':
                    status[account_id] = (balance < threshold, None)
                else:
                    due = oldest_due.get(account_id)
                    status[account_id] = (
                        balance < 0 and due is not None and due < date, due)
        return status

    @classmethod
    def _dunning_candidates(cls):
        "Accounts the daily run must look at (not every account)"
        pool = Pool()
        Bill = pool.get('telecom.bill')
        Configuration = pool.get('telecom.configuration')
        threshold = Configuration(1).prepaid_suspend_threshold or 0
        account = cls.__table__()
        bill = Bill.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*Union(
                bill.select(bill.account, where=bill.state == 'issued'),
                account.select(account.id,
                    where=((account.payment_type == 'postpaid')
                        & (account.balance < 0))
                    | ((account.payment_type == 'prepaid')
                        & (account.balance < threshold))
                    | (account.overdue_since != None)  # noqa: E711
                    | (account.dunning_stage != None))))  # noqa: E711
        return sorted(r for r, in cursor)

    @classmethod
    def run_dunning(cls, date=None):
        """Cron (daily): settle bills, move accounts in arrears up their
        dunning stages, a dunning for each stage reached with its action
        carried out, and clear the accounts that paid.

        An account that passes several stages between two runs reaches
        the highest one only: a suspension is not preceded by a reminder
        of the same day. Prepaid accounts below the threshold go to the
        last suspension stage at once."""
        pool = Pool()
        Stage = pool.get('telecom.dunning.stage')
        Dunning = pool.get('telecom.dunning')
        date = date or pool.get('ir.date').today()
        stages = Stage.search([])  # ordered by days
        rank = {s.id: i for i, s in enumerate(stages)}
        suspend_stages = [s for s in stages if s.action == 'suspend']

        def rank_of(stage):
            return rank.get(stage.id, -1) if stage else -2

        for sub_ids in grouped_slice(cls._dunning_candidates(), 1000):
            sub_ids = list(sub_ids)
            status = cls.arrears_status(sub_ids, date=date)
            writes = defaultdict(list)
            dunnings, in_arrears, cleared = [], [], []
            for account in cls.browse(sub_ids):
                arrears, since = status[account.id]
                if not arrears:
                    if account.overdue_since or account.dunning_stage:
                        cleared.append(account)
                    continue
                in_arrears.append(account.id)
                old = account.dunning_stage
                if account.payment_type == 'prepaid':
                    since = account.overdue_since or date
                    target = suspend_stages[-1] if suspend_stages else None
                else:
                    reached = [s for s in stages
                        if s.days <= (date - since).days]
                    target = reached[-1] if reached else None
                # the stage does not go down while the account is in arrears
                stage = target if rank_of(target) > rank_of(old) else old
                if (since, stage) != (account.overdue_since, old):
                    writes[(since, stage.id if stage else None)].append(
                        account)
                if stage != old:
                    dunnings.append((account.id, stage.id, stage.action, date,
                            since, (date - since).days, account.arrears,
                            account.balance, 'waiting'))
            if writes:
                args = []
                for (since, stage_id), accounts in writes.items():
                    args.extend([accounts, {
                                'overdue_since': since,
                                'dunning_stage': stage_id,
                                }])
                cls.write(*args)
            # checked above, and once per stage by the database
            BulkWriter(Dunning, ['account', 'stage', 'action', 'date',
                    'overdue_since', 'days_overdue', 'amount', 'balance',
                    'state']).write(dunnings)
            # with those of earlier runs that still wait
            Dunning.process(Dunning.search([
                        ('account', 'in', in_arrears),
                        ('state', '=', 'waiting'),
                        ], order=[('id', 'ASC')]))
            if cleared:
                cls.restore_paid(cleared, date=date)

    @classmethod
    def _live_lines(cls, accounts, states):
        "{account id: [its lines in states]}"
        Subscriber = Pool().get('telecom.subscriber')
        lines = defaultdict(list)
        for sub_accounts in grouped_slice(accounts, 1000):
            for line in Subscriber.search([
                        ('account', 'in', [a.id for a in sub_accounts]),
                        ('state', 'in', states),
                        ], order=[('id', 'ASC')]):
                lines[line.account.id].append(line)
        return lines

    @classmethod
    def _busy_lines(cls, lines):
        "Ids of the lines that have an order in progress"
        Order = Pool().get('telecom.order')
        order = Order.__table__()
        cursor = Transaction().connection.cursor()
        busy = set()
        for sub_ids in grouped_slice([l.id for l in lines], 1000):
            cursor.execute(*order.select(order.subscriber,
                    where=SQL_OPERATORS['in'](order.subscriber, list(sub_ids))
                    & order.state.in_(['submitted', 'provisioning'])))
            busy.update(r for r, in cursor)
        return busy

    @classmethod
    def _run_orders(cls, orders):
        "Through the network like any order (done at once without one)"
        Order = Pool().get('telecom.order')
        if orders:
            Order.save(orders)
            Order.submit(orders)

    @classmethod
    def _restore_candidates(cls):
        "Accounts with lines suspended for arrears or a dunning stage"
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        account = cls.__table__()
        subscriber = Subscriber.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*Union(
                subscriber.select(subscriber.account,
                    where=(subscriber.state == 'suspended')
                    & (subscriber.suspension_reason == 'arrears')),
                account.select(account.id,
                    where=(account.overdue_since != None)  # noqa: E711
                    | (account.dunning_stage != None))))  # noqa: E711
        return sorted(r for r, in cursor)

    @classmethod
    def restore_paid(cls, accounts=None, date=None, payments=()):
        """Accounts no longer in arrears: resume their lines suspended for
        arrears (with every service the suspension stopped), clear their
        dunnings and tell them by SMS.

        Called when payments are posted (the orders say which payment of
        their account restored them) and by a cron every few minutes (for
        suspensions still on their way when the payment came)."""
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        Order = pool.get('telecom.order')
        Dunning = pool.get('telecom.dunning')
        date = date or pool.get('ir.date').today()
        # of several payments of an account, the last one cleared it
        payment_of = {p.account.id: p for p in payments}
        if accounts is None:
            account_ids = cls._restore_candidates()
        else:
            account_ids = sorted({a.id for a in accounts})
        for sub_ids in grouped_slice(account_ids, 1000):
            status = cls.arrears_status(list(sub_ids), date=date)
            paid = cls.browse([i for i, (in_arrears, _) in status.items()
                    if not in_arrears])
            if not paid:
                continue
            to_clear = [a for a in paid
                if a.overdue_since or a.dunning_stage]
            if to_clear:
                cls.write(to_clear, {
                        'overdue_since': None,
                        'dunning_stage': None,
                        })
            Dunning.clear([a.id for a in paid], date)
            lines = Subscriber.search([
                    ('account', 'in', [a.id for a in paid]),
                    ('state', '=', 'suspended'),
                    ('suspension_reason', '=', 'arrears'),
                    ], order=[('id', 'ASC')])
            busy = cls._busy_lines(lines)
            lines = [l for l in lines if l.id not in busy]
            reason = gettext('crm_dunning.msg_dunning_restored_reason')
            orders = [Order(type='resume', customer=l.customer,
                    subscriber=l, reason=reason,
                    payment=payment_of.get(l.account.id)) for l in lines]
            cls._run_orders(orders)
            sms.notify([{
                        'subscriber': l,
                        'event': 'restoration',
                        'text': gettext('crm_dunning.msg_sms_restoration',
                            number=l.rec_name),
                        } for l in lines])
