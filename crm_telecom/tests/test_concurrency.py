"""Two clerks activating the same number at the same moment.

Runs only on PostgreSQL: it needs two real connections whose transactions
overlap. Each thread opens its own Tryton transaction, both wait at a
barrier, then both create, submit, provision and complete an activation of
the same number and commit."""
import threading
import unittest

from trytond import backend
from trytond.backend import DatabaseOperationalError
from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from crm_telecom.tests.tools import (
    activation,
    create_account,
    create_customer,
    create_numbers,
    setup_reference,
)


@unittest.skipUnless(backend.name == 'postgresql',
    "concurrent transactions need PostgreSQL")
class ConcurrentActivationTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        drop_db()
        activate_module('crm_telecom')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def test_same_number_two_clerks(self):
        with Transaction().start(DB_NAME, 0) as transaction:
            regions, brands, products = setup_reference()
            customers = [create_customer(name=n, sequence=i)
                for i, n in enumerate(["赵一", "钱二"], 1)]
            accounts = [create_account(c) for c in customers]
            number, = create_numbers('13912345678')
            ids = {
                'customers': [c.id for c in customers],
                'accounts': [a.id for a in accounts],
                'number': number.id,
                'brand': brands['SZX'].id,
                'plan': products["神州行 18元畅聊卡"].id,
                }
            transaction.commit()

        barrier = threading.Barrier(2, timeout=30)
        outcomes = [None, None]

        def clerk(index):
            try:
                with Transaction().start(DB_NAME, 0) as transaction:
                    pool = Pool()
                    Order = pool.get('telecom.order')
                    Party = pool.get('party.party')
                    Number = pool.get('telecom.number')
                    Brand = pool.get('telecom.brand')
                    Template = pool.get('product.template')
                    Account = pool.get('telecom.account')
                    barrier.wait()
                    order = activation(Party(ids['customers'][index]),
                        Number(ids['number']), Brand(ids['brand']),
                        Template(ids['plan']),
                        account=Account(ids['accounts'][index]))
                    Order.process([order])
                    transaction.commit()
                outcomes[index] = 'done'
            except Exception as exception:
                outcomes[index] = exception

        threads = [threading.Thread(target=clerk, args=(i,))
            for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        self.assertEqual(outcomes.count('done'), 1, outcomes)
        # the loser either finds the number taken or cannot serialize (a
        # web request would then be retried and find the number taken)
        loser, = [o for o in outcomes if o != 'done']
        self.assertIsInstance(loser,
            (UserError, DatabaseOperationalError), loser)
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            Subscriber = pool.get('telecom.subscriber')
            Number = pool.get('telecom.number')
            lines = Subscriber.search([('number', '=', ids['number'])])
            self.assertEqual(len(lines), 1)
            self.assertEqual(lines[0].state, 'active')
            self.assertEqual(Number(ids['number']).state, 'active')
