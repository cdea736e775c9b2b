from decimal import Decimal

from trytond.i18n import gettext
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.money import format_money

from .exceptions import BalanceError


class Account(metaclass=PoolMeta):
    __name__ = 'telecom.account'

    @classmethod
    def copy(cls, accounts, default=None):
        # the money stays with the ledger of the original
        default = default.copy() if default is not None else {}
        default.setdefault('balance', Decimal(0))
        return super().copy(accounts, default=default)

    # the balance is the sum of the movements: only their post() moves it
    # (refused before anything is written)
    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('balance'):
            raise BalanceError(gettext(
                    'crm_billing.msg_account_balance_ledger',
                    account=values.get('code') or '',
                    balance=format_money(values['balance'])))
        return values

    @classmethod
    def check_modification(cls, mode, accounts, values=None,
            external=False):
        super().check_modification(
            mode, accounts, values=values, external=external)
        if mode == 'write' and 'balance' in values:
            raise BalanceError(gettext(
                    'crm_billing.msg_account_balance_ledger',
                    account=', '.join(a.rec_name for a in accounts[:3]),
                    balance=format_money(values['balance'])))

    @classmethod
    def settle_bills(cls, account_ids):
        """Mark bills paid oldest first where the balance covers them (and
        issue again those a reversal uncovered); return {account id: due
        date of the oldest unpaid bill}"""
        pool = Pool()
        Bill = pool.get('telecom.bill')
        bill = Bill.__table__()
        account = cls.__table__()
        cursor = Transaction().connection.cursor()
        oldest_due = {}
        for sub_ids in grouped_slice(list(account_ids), 1000):
            sub_ids = list(sub_ids)
            cursor.execute(*account.select(account.id, account.balance,
                    where=SQL_OPERATORS['in'](account.id, sub_ids)))
            debts = {}
            clear = []
            for account_id, balance in cursor:
                balance = balance or Decimal(0)
                if balance < 0:
                    debts[account_id] = -balance
                else:
                    clear.append(account_id)
            if clear:
                Bill.transition_rows('paid', where=lambda table:
                    SQL_OPERATORS['in'](table.account, clear))
            if not debts:
                continue
            cursor.execute(*bill.select(bill.account, bill.id,
                    bill.due_date, bill.amount, bill.state,
                    where=SQL_OPERATORS['in'](bill.account, list(debts)),
                    order_by=[bill.account, bill.period_start.desc,
                        bill.id.desc]))
            to_paid, to_issued = [], []
            newer, current = Decimal(0), None
            for account_id, bill_id, due_date, amount, state in cursor:
                if account_id != current:
                    newer, current = Decimal(0), account_id
                unpaid = amount > 0 and newer < debts[account_id]
                newer += amount
                if unpaid:
                    # rows are newest first: the last one is the oldest
                    oldest_due[account_id] = due_date
                    if state != 'issued':
                        to_issued.append(bill_id)
                elif state != 'paid':
                    to_paid.append(bill_id)
            Bill.transition_rows('paid', to_paid)
            Bill.transition_rows('issued', to_issued)
        return oldest_due
