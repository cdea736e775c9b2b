"Merging duplicate customers moves their bills and payments"
import datetime as dt
import unittest

from trytond.modules.party.tests import PartyCheckReplaceMixin
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

from crm_telecom.tests.tools import (
    create_account,
    create_bill,
    create_customer,
    create_payment,
    replace_party,
    valid_id,
)


class PartyReplaceTestCase(PartyCheckReplaceMixin, unittest.TestCase):
    "party.replace with billing"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_billing')

    @classmethod
    def tearDownClass(cls):
        # else the scenario that follows finds the database on PostgreSQL
        drop_db()

    @with_transaction()
    def test_replace_moves_bills_and_payments(self):
        pool = Pool()
        Bill = pool.get('telecom.bill')
        Payment = pool.get('telecom.payment')
        code = valid_id(7)
        duplicate = create_customer(code=code)
        customer = create_customer(code=code)
        account = create_account(duplicate)
        bill = create_bill(account, '58.00', dt.date(2026, 12, 20))
        payment = create_payment(account, '58.00')
        self.assertEqual((bill.payer, payment.payer), (duplicate, duplicate))

        replace_party(duplicate, customer)

        self.assertEqual(Bill(bill.id).payer, customer)
        self.assertEqual(Payment(payment.id).payer, customer)
        self.assertEqual(customer.bills, (Bill(bill.id),))
        self.assertEqual(customer.payments, (Payment(payment.id),))
