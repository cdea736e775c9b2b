import datetime as dt
from itertools import islice

from sql import Literal
from sql.aggregate import Sum
from sql.conditionals import Coalesce
from sql.functions import CurrentTimestamp, Round

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.fields import SQL_OPERATORS
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.money import format_money
from crm_telecom.sql_tools import clear_cache, execute_planned, in_ids

from .company import AccountMoneyMixin
from .exceptions import BalanceError

# movements read from post()'s iterable at a time
POST_BATCH = 10000
MOVEMENT_KINDS = [
    ('payment', "Payment"),
    ('top_up', "Top-up"),
    ('reversal', "Payment Reversal"),
    ('bill', "Bill"),
    ('opening', "Opening Balance"),
    ]


class AccountMovement(AccountMoneyMixin, ModelSQL, ModelView):
    """Money in or out of a billing account.

    The account balance is the sum of its movements. Movements are only
    ever added, by post(), which moves the balances with them; nothing
    else writes either."""
    __name__ = 'telecom.account.movement'

    account = fields.Many2One('telecom.account', "Account", required=True,
        ondelete='RESTRICT', readonly=True)
    date = fields.DateTime("Date", required=True, readonly=True)
    kind = fields.Selection(MOVEMENT_KINDS, "Kind", required=True,
        readonly=True)
    amount = Monetary("Amount", currency='currency', digits='currency',
        required=True,
        readonly=True, help="Positive adds to the balance.")
    origin = fields.Reference("Origin", selection='get_origins',
        readonly=True)
    kind_string = kind.translated('kind')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('account')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.account, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    def get_rec_name(self, name):
        return '%s %s %s' % (
            self.account.rec_name, self.kind_string, format_money(self.amount))

    @classmethod
    def get_origins(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        models = ['telecom.payment', 'telecom.bill']
        return [(None, '')] + [(m, Model.get_name(m)) for m in models]

    # post() writes the ledger and the balances together, in SQL: the ORM
    # refuses to, before anything is written
    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            raise BalanceError(gettext('crm_billing.msg_movement_post_only',
                    movement=format_money(values.get('amount'))))
        return values

    @classmethod
    def check_modification(cls, mode, movements, values=None,
            external=False):
        super().check_modification(
            mode, movements, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise BalanceError(gettext('crm_billing.msg_movement_post_only',
                    movement=', '.join(m.rec_name for m in movements[:3])))

    @classmethod
    def post(cls, movements):
        """The one way money moves on billing accounts.

        movements: any iterable of dicts with account (id), kind, amount
        and origin ('model,id' or None), consumed a slice at a time so
        that a generator of millions of them streams. They are written in
        bulk, then the balance of every account they touch is set to the
        sum of its movements. Returns the ids of the accounts touched."""
        now = dt.datetime.now()
        accounts = set()
        movements = iter(movements)
        while batch := list(islice(movements, POST_BATCH)):
            rows = []
            for m in batch:
                accounts.add(m['account'])
                rows.append((m['account'], now, m['kind'], m['amount'],
                        m.get('origin')))
            cls._write_rows(rows)
        cls.update_balances(accounts)
        return accounts

    @classmethod
    def _write_rows(cls, rows):
        """Insert rows of (account, date, kind, amount, origin): COPY on
        PostgreSQL (the generator posts hundreds of thousands of opening
        balances), multi-row INSERT elsewhere"""
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        user, now = transaction.user, dt.datetime.now()
        columns = ['account', 'date', 'kind', 'amount', 'origin',
            'create_uid', 'create_date']
        if backend.name == 'postgresql':
            with cursor.copy('COPY "%s" (%s) FROM STDIN' % (cls._table,
                        ', '.join('"%s"' % c for c in columns))) as copy:
                for row in rows:
                    copy.write_row((*row, user, now))
            return
        table = cls.__table__()
        size = max(1, backend.MAX_QUERY_PARAMS // len(columns))
        for i in range(0, len(rows), size):
            cursor.execute(*table.insert(
                    [getattr(table, c) for c in columns],
                    [(*row, user, now) for row in rows[i:i + size]]))

    @classmethod
    def update_balances(cls, account_ids):
        """Set each account balance to the sum of its movements: the other
        half of post() (and the repair after a check_balances alarm)"""
        pool = Pool()
        Account = pool.get('telecom.account')
        account = Account.__table__()
        movement = cls.__table__()
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        account_ids = sorted(account_ids)
        for sub_ids in grouped_slice(account_ids, 1000):
            # rounded: SQLite sums decimals as floats
            total = movement.select(
                Round(Coalesce(Sum(movement.amount), 0), 2),
                where=movement.account == account.id)
            execute_planned(cursor, account.update(
                    [account.balance, account.write_uid, account.write_date],
                    [total, transaction.user, CurrentTimestamp()],
                    where=in_ids(account.id, list(sub_ids))))
        clear_cache(Account, account_ids)

    @classmethod
    def balance_mismatches(cls, account_ids=None):
        """Accounts whose stored balance differs from the sum of their
        movements, as [(account id, balance, sum)]"""
        pool = Pool()
        Account = pool.get('telecom.account')
        account = Account.__table__()
        movement = cls.__table__()
        cursor = Transaction().connection.cursor()
        totals = movement.select(movement.account,
            Sum(movement.amount).as_('total'),
            group_by=[movement.account])
        join = account.join(totals, 'LEFT',
            condition=totals.account == account.id)
        total = Round(Coalesce(totals.total, Literal(0)), 2)
        where = Round(account.balance, 2) != total
        if account_ids is not None:
            where &= SQL_OPERATORS['in'](account.id, list(account_ids))
        cursor.execute(*join.select(account.id, account.balance, total,
                where=where, order_by=[account.id]))
        return cursor.fetchall()

    @classmethod
    def check_balances(cls, account_ids=None):
        "Cron and tests: prove every balance equals its movements"
        mismatches = cls.balance_mismatches(account_ids)
        if mismatches:
            Account = Pool().get('telecom.account')
            account_id, balance, total = mismatches[0]
            raise BalanceError(gettext('crm_billing.msg_balance_mismatch',
                    account=Account(account_id).rec_name,
                    balance=format_money(balance), total=format_money(total),
                    count=len(mismatches)))
