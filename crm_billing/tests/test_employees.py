"Money steps record the employee who took them"
import unittest
from decimal import Decimal as D

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction, check_access

from crm_telecom.tests.tools import (
    create_account,
    create_customer,
    create_staff,
)


class EmployeesTestCase(unittest.TestCase):
    "Payments and adjustments name their employees"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_billing')

    @with_transaction()
    def test_payment_posted_and_reversed_by(self):
        Payment = Pool().get('telecom.payment')
        clerk = create_staff('clerk', 'group_clerk')
        billing = create_staff('billing', 'group_billing')
        account = create_account(create_customer(), payment_type='prepaid')
        with Transaction().set_user(clerk.id), check_access():
            payment, = Payment.create([{'account': account.id,
                        'amount': D('50'), 'channel': 'business_hall',
                        'method': 'cash'}])
            Payment.post([payment])
        with Transaction().set_user(billing.id), check_access():
            Payment.post_reversal([Payment(payment.id)], "Counterfeit note")
        payment = Payment(payment.id)
        self.assertEqual(payment.posted_employee, clerk.employee)
        self.assertEqual(payment.reversed_employee, billing.employee)

    @with_transaction()
    def test_adjustment_requested_and_approved_by(self):
        Adjustment = Pool().get('telecom.bill.adjustment')
        clerk = create_staff('clerk', 'group_clerk')
        billing = create_staff('billing', 'group_billing')
        account = create_account(create_customer())
        with Transaction().set_user(clerk.id), check_access():
            adjustment, = Adjustment.create([{'account': account.id,
                        'amount': D('-300'), 'reason': "基站故障补偿"}])
            Adjustment.confirm([adjustment])
        with Transaction().set_user(billing.id), check_access():
            Adjustment.approve([Adjustment(adjustment.id)])
        adjustment = Adjustment(adjustment.id)
        self.assertEqual(adjustment.requested_employee, clerk.employee)
        self.assertEqual(adjustment.approved_employee, billing.employee)

    @with_transaction()
    def test_employees_never_typed(self):
        "Who took a step is recorded by the step: read-only in every state"
        from trytond.pyson import PYSONDecoder, PYSONEncoder
        pool = Pool()
        for model, names in [
                ('telecom.payment', ['posted_employee', 'reversed_employee']),
                ('telecom.bill.adjustment',
                    ['requested_employee', 'approved_employee']),
                ('telecom.order', ['submitted_employee']),
                ]:
            Model = pool.get(model)
            states = [s for s, _ in Model._fields['state'].selection]
            for name in names:
                readonly = Model._fields[name].states['readonly']
                for state in states:
                    with self.subTest(model=model, field=name, state=state):
                        self.assertTrue(PYSONDecoder({'state': state}).decode(
                                PYSONEncoder().encode(readonly)))
