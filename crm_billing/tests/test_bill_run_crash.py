"""A bill run whose process dies half-way, with real commits.

Each batch of accounts is one committed transaction: after the crash the
batches done before it stay billed, the one that died left nothing, and
running the bill run again finishes the cycle; a further run changes
nothing."""
import unittest
from decimal import Decimal as D
from unittest.mock import patch

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from crm_billing import rating
from crm_telecom.tests.tools import BEFORE, CYCLE, at, line_since, usage


@unittest.skipIf(DB_NAME == ':memory:',
    "commits need a database other connections can see")
class BillRunCrashTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        drop_db()
        activate_module('crm_billing')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def snapshot(self):
        pool = Pool()
        Bill = pool.get('telecom.bill')
        Line = pool.get('telecom.bill.line')
        Usage = pool.get('telecom.usage')
        Account = pool.get('telecom.account')
        return (
            sorted((b.account.id, b.amount) for b in Bill.search([])),
            Line.search_count([]),
            Usage.search_count([('bill_line', '=', None)]),
            sorted((a.id, a.balance) for a in Account.search([])))

    def test_crash_and_resume(self):
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Usage = pool.get('telecom.usage')
            BillRun = pool.get('telecom.bill.run')
            lines = [line_since(BEFORE, number='1390000000%s' % i)
                for i in range(5)]
            Usage.create([usage(s, 'voice', at(3), duration=(101 + i) * 60)
                    for i, s in enumerate(lines)])
            run, = BillRun.create([{'period_start': CYCLE}])
            run_id = run.id
            transaction.commit()

        original = rating.Rating.bill
        batches = []

        def dies_on_second_batch(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            batches.append(len(self.account_ids))
            if len(batches) == 2:
                raise SystemExit("bill run process killed")
            return result

        with patch.object(rating.Rating, 'bill', dies_on_second_batch):
            with self.assertRaises(SystemExit):
                with Transaction().start(DB_NAME, 0):
                    BillRun = Pool().get('telecom.bill.run')
                    BillRun.process([BillRun(run_id)], batch_size=2)

        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            BillRun = pool.get('telecom.bill.run')
            Bill = pool.get('telecom.bill')
            run = BillRun(run_id)
            self.assertEqual((run.state, run.accounts_total,
                    run.accounts_done), ('running', 5, 2))
            self.assertEqual(Bill.search_count([]), 2)

        with Transaction().start(DB_NAME, 0) as transaction:
            BillRun = Pool().get('telecom.bill.run')
            BillRun.process([BillRun(run_id)], batch_size=2)
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            BillRun = pool.get('telecom.bill.run')
            Movement = pool.get('telecom.account.movement')
            run = BillRun(run_id)
            self.assertEqual((run.state, run.accounts_done), ('done', 5))
            first = self.snapshot()
            self.assertEqual([amount for _, amount in first[0]],
                [D('18.19'), D('18.38'), D('18.57'), D('18.76'),
                    D('18.95')])
            self.assertEqual(first[2], 0)
            Movement.check_balances()

        with Transaction().start(DB_NAME, 0) as transaction:
            BillRun = Pool().get('telecom.bill.run')
            BillRun.process([BillRun(run_id)], batch_size=2)
        with Transaction().start(DB_NAME, 0, readonly=True):
            self.assertEqual(self.snapshot(), first)
