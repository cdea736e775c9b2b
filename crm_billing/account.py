from decimal import Decimal

from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.sql_tools import clear_cache


class Account(metaclass=PoolMeta):
    __name__ = 'telecom.account'

    @classmethod
    def settle_bills(cls, account_ids):
        """Mark bills paid oldest first where the balance covers them (and
        open again those a reversal uncovered); return {account id: due
        date of the oldest unpaid bill}"""
        pool = Pool()
        Bill = pool.get('telecom.bill')
        bill = Bill.__table__()
        account = cls.__table__()
        cursor = Transaction().connection.cursor()
        oldest_due = {}
        changed = False
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
                cursor.execute(*bill.update([bill.state], ['paid'],
                        where=SQL_OPERATORS['in'](bill.account, clear)
                        & (bill.state == 'issued')))
                changed = True
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
            for state, ids in [('paid', to_paid), ('issued', to_issued)]:
                for bill_ids in grouped_slice(ids, 1000):
                    cursor.execute(*bill.update([bill.state], [state],
                            where=SQL_OPERATORS['in'](
                                bill.id, list(bill_ids))))
                    changed = True
        if changed:
            clear_cache(Bill)
        return oldest_due
