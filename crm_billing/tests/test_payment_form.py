"The payment form shows what the account owes"
import datetime as dt
import unittest
from decimal import Decimal as D

from lxml import etree

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction

from crm_telecom.tests.tools import (
    create_account,
    create_bill,
    create_customer,
)


class PaymentFormTestCase(unittest.TestCase):
    "Balance and amount due on the payment form"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_billing')

    @with_transaction()
    def test_balance_and_amount_due(self):
        pool = Pool()
        Payment = pool.get('telecom.payment')
        account = create_account(create_customer(), payment_type='postpaid')
        create_bill(account, '30.00', dt.date(2026, 11, 15))
        payment = Payment(account=account)
        self.assertEqual(payment.on_change_with_account_balance(), D('-30'))
        self.assertEqual(payment.on_change_with_amount_due(), D('30'))
        view = Payment.fields_view_get(view_type='form')
        arch = etree.fromstring(view['arch'])
        for name in ['account_balance', 'amount_due']:
            self.assertTrue(arch.xpath('//field[@name="%s"]' % name), name)
