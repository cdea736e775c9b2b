import datetime as dt

from sql import Literal
from sql.aggregate import Sum
from sql.conditionals import Coalesce
from sql.functions import Round

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.fields import SQL_OPERATORS
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.sql_tools import clear_cache

from .company import AccountMoneyMixin
from .exceptions import BalanceError

MOVEMENT_KINDS = [
    ('payment', "Payment"),
    ('top_up', "Top-up"),
    ('reversal', "Payment Reversal"),
    ('bill', "Bill"),
    ]


class AccountMovement(AccountMoneyMixin, ModelSQL, ModelView):
    """Money in or out of a billing account.

    The account balance is the sum of its movements; movements are only
    ever added, never changed."""
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

    @classmethod
    def get_origins(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        models = ['telecom.payment', 'telecom.bill']
        return [(None, '')] + [(m, Model.get_name(m)) for m in models]

    @classmethod
    def post(cls, movements):
        """Record movements (dicts: account, kind, amount, origin) and move
        the account balances with them, in one statement per 1000"""
        if not movements:
            return []
        now = dt.datetime.now()
        records = cls.create([{'date': now, **m} for m in movements])
        cls.update_balances({m['account'] for m in movements})
        return records

    @classmethod
    def update_balances(cls, account_ids):
        "Set each account balance to the sum of its movements"
        pool = Pool()
        Account = pool.get('telecom.account')
        account = Account.__table__()
        movement = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice(list(account_ids), 1000):
            # rounded: SQLite sums decimals as floats
            total = movement.select(
                Round(Coalesce(Sum(movement.amount), 0), 2),
                where=movement.account == account.id)
            cursor.execute(*account.update([account.balance], [total],
                    where=SQL_OPERATORS['in'](account.id, list(sub_ids))))
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
                    account=Account(account_id).rec_name, balance=balance,
                    total=total, count=len(mismatches)))
