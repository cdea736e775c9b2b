"""The account ledger: one entry point moves balances, and bills change
state only through their transitions"""
import unittest
from decimal import Decimal as D

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_billing.exceptions import BalanceError
from crm_telecom.tests.tools import (
    BEFORE,
    CYCLE,
    at,
    create_account,
    create_bill,
    create_customer,
    create_payment,
    line_since,
    usage,
)


class LedgerTestCase(unittest.TestCase):
    "Balances are the sum of movements after every flow"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_billing')

    def assertLedger(self, account, balance):
        "The stored balance, the movements' sum and the expected agree"
        pool = Pool()
        Account = pool.get('telecom.account')
        Movement = pool.get('telecom.account.movement')
        Movement.check_balances()
        movements = Movement.search([('account', '=', account.id)])
        self.assertEqual(sum(m.amount for m in movements), D(balance))
        self.assertEqual(Account(account.id).balance, D(balance))

    def kinds(self, account):
        Movement = Pool().get('telecom.account.movement')
        return sorted((m.kind, m.amount) for m in Movement.search(
                [('account', '=', account.id)]))

    def user(self, login):
        return Pool().get('res.user').create([{'login': login}])[0]

    def transition_logs(self, record):
        Log = Pool().get('ir.model.log')
        return [(l.target, l.user.id if l.user else None)
            for l in Log.search([
                    ('resource', '=', str(record)),
                    ('event', '=', 'transition'),
                    ], order=[('id', 'ASC')])]

    @with_transaction()
    def test_every_flow_moves_the_ledger(self):
        "Bill run with adjustments, payment, reversal and top-up"
        pool = Pool()
        BillRun = pool.get('telecom.bill.run')
        Adjustment = pool.get('telecom.bill.adjustment')
        Payment = pool.get('telecom.payment')
        Usage = pool.get('telecom.usage')
        subscriber = line_since(BEFORE)
        account = subscriber.account
        self.assertLedger(account, '0')

        credit, debit = Adjustment.create([
                {'account': account.id, 'amount': D('-5.00'),
                    'reason': "网络故障补偿"},
                {'account': account.id, 'amount': D('2.50'),
                    'reason': "纸质账单"},
                ])
        Adjustment.confirm([credit, debit])
        Usage.create([usage(subscriber, 'voice', at(3), duration=101 * 60)])
        run, = BillRun.create([{'period_start': CYCLE}])
        BillRun.process([run], commit=False)
        # 18.00 plan + 0.19 voice - 5.00 + 2.50
        self.assertLedger(account, '-15.69')
        self.assertEqual(self.kinds(account), [('bill', D('-15.69'))])

        payment = create_payment(account, '20')
        self.assertLedger(account, '4.31')
        Payment.post_reversal([payment], "银行退票")
        self.assertLedger(account, '-15.69')
        self.assertEqual(self.kinds(account), [
                ('bill', D('-15.69')), ('reversal', D('-20.00')),
                ('top_up', D('20.00'))])

        prepaid = create_account(create_customer(sequence=7),
            payment_type='prepaid')
        create_payment(prepaid, '50', channel='app', method='wechat')
        self.assertLedger(prepaid, '50')
        self.assertEqual(self.kinds(prepaid), [('top_up', D('50.00'))])

    @with_transaction()
    def test_post_is_set_based(self):
        "post() takes any iterable, touches only its accounts, says who"
        pool = Pool()
        Account = pool.get('telecom.account')
        Movement = pool.get('telecom.account.movement')
        first, second, other = [create_account(create_customer(sequence=i))
            for i in range(1, 4)]
        cashier = self.user('cashier_ledger')

        def movements():
            yield {'account': first.id, 'kind': 'payment',
                'amount': D('10.00')}
            yield {'account': second.id, 'kind': 'top_up',
                'amount': D('2.50')}
            yield {'account': first.id, 'kind': 'reversal',
                'amount': D('-4.00')}
        with Transaction().set_user(cashier.id):
            touched = Movement.post(movements())
        self.assertEqual(touched, {first.id, second.id})
        self.assertEqual(Movement.post([]), set())
        first, second, other = Account.browse([first, second, other])
        self.assertEqual((first.balance, second.balance, other.balance),
            (D('6.00'), D('2.50'), D('0')))
        self.assertEqual((first.write_uid, second.write_uid),
            (cashier, cashier))
        self.assertIsNotNone(first.write_date)
        self.assertIsNone(other.write_uid)
        movement = Movement.search([('account', '=', second.id)])[0]
        self.assertEqual(movement.create_uid, cashier)
        Movement.check_balances()

    @with_transaction()
    def test_balance_written_only_by_the_ledger(self):
        "Balances and movements cannot be set or changed behind post()"
        pool = Pool()
        Account = pool.get('telecom.account')
        Movement = pool.get('telecom.account.movement')
        account = create_account(create_customer())
        create_payment(account, '30')

        with self.assertRaises(BalanceError) as cm:
            Account.write([account], {'balance': D('1000.50')})
        self.assertIn(account.rec_name, cm.exception.message)
        self.assertIn('1000.50', cm.exception.message)
        with self.assertRaises(BalanceError) as cm:
            Account.create([{'payer': account.payer.id,
                        'balance': D('12.5')}])
        self.assertIn('12.50', cm.exception.message)

        # a copy of an account starts with no money of its own
        copy, = Account.copy([account])
        self.assertEqual(copy.balance, D('0'))
        self.assertLedger(account, '30')
        self.assertLedger(copy, '0')

        # (each refusal aborts the user's transaction: nothing is checked
        # after them)
        movement, = Movement.search([('account', '=', account.id)])
        for action in [
                lambda: Movement.write([movement], {'amount': D('300')}),
                lambda: Movement.delete([movement]),
                lambda: Movement.create([{'account': account.id,
                            'kind': 'payment', 'amount': D('1'),
                            'date': movement.date}]),
                lambda: Movement.copy([movement]),
                ]:
            with self.subTest(action=action), \
                    self.assertRaises(BalanceError) as cm:
                action()
            self.assertIn('post', cm.exception.message)

    @with_transaction()
    def test_bills_settled_through_transitions(self):
        "Paying and reversing moves bills by their transitions, with who"
        pool = Pool()
        Bill = pool.get('telecom.bill')
        Payment = pool.get('telecom.payment')
        today = pool.get('ir.date').today()
        account = create_account(create_customer(), payment_type='postpaid')
        bill = create_bill(account, '40', today)
        cashier = self.user('cashier_settle')
        with Transaction().set_user(cashier.id):
            payment = create_payment(account, '40')
        bill = Bill(bill.id)
        self.assertEqual(bill.state, 'paid')
        self.assertEqual(bill.write_uid, cashier)
        self.assertEqual(self.transition_logs(bill),
            [('state:paid', cashier.id)])
        # a paid bill is not paid again: the from-state is checked
        self.assertEqual(Bill.transition_rows('paid', [bill.id]), [])
        self.assertEqual(Bill.transition_rows('reserved', [bill.id]), [])

        supervisor = self.user('supervisor_settle')
        with Transaction().set_user(supervisor.id):
            Payment.post_reversal([payment], "重复缴费")
        bill = Bill(bill.id)
        self.assertEqual((bill.state, bill.write_uid), ('issued', supervisor))
        self.assertEqual(self.transition_logs(bill),
            [('state:paid', cashier.id), ('state:issued', supervisor.id)])
        self.assertLedger(account, '-40')

    @with_transaction()
    def test_bill_run_transitions(self):
        "A bill run goes draft, running, done by its transitions only"
        pool = Pool()
        BillRun = pool.get('telecom.bill.run')
        line_since(BEFORE)
        run, = BillRun.create([{'period_start': CYCLE}])
        BillRun.process([run], commit=False)
        run = BillRun(run.id)
        self.assertEqual((run.state, run.accounts_done), ('done', 1))
        self.assertIsNotNone(run.finished_at)
        transaction = Transaction()
        targets = [l.target for l in transaction.log_records
            if l.resource == run and l.event == 'transition']
        self.assertEqual(targets, ['state:running', 'state:done'])
        # a finished run is not finished twice
        BillRun.finish([run])
        self.assertEqual(len([l for l in transaction.log_records
                    if l.resource == run and l.event == 'transition']), 2)


if __name__ == '__main__':
    unittest.main()
