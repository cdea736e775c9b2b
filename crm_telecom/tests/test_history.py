"Every line event says who asked for it and which step applied it"
import unittest
from unittest.mock import patch

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.tools import (
    activation,
    create_customer,
    create_numbers,
    create_staff,
    setup_reference,
)


class EventHistoryTestCase(unittest.TestCase):
    "Who and which step in the line history"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    @with_transaction()
    def test_acknowledged_later_names_the_submitter(self):
        """An order the network applies later (a worker or the
        acknowledgement route: no user) names the clerk who submitted it
        and the step that applied it"""
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        clerk = create_staff('clerk', 'group_clerk')
        number, = create_numbers('13800138000')
        order = activation(create_customer(), number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        # the network answers later, as with crm_provisioning's endpoint
        with patch.object(Order, '_acknowledged_at_once',
                classmethod(lambda cls, orders: [])):
            with Transaction().set_user(clerk.id):
                Order.submit([order])
                Order.provision([order])
        self.assertEqual(order.state, 'provisioning')
        with Transaction().set_user(0), Transaction().set_context(
                telecom_event_step='network'):
            Order.complete([Order(order.id)])
        order = Order(order.id)
        self.assertEqual(order.submitted_employee, clerk.employee)
        event, = order.subscriber.events
        self.assertEqual(event.user, clerk)
        self.assertEqual(event.employee, clerk.employee)
        self.assertEqual(event.step, 'network')

    @with_transaction()
    def test_system_step_without_user(self):
        "A change a scheduled task makes says so"
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        number, = create_numbers('13800138001')
        order = activation(create_customer(), number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        with Transaction().set_user(0):
            Order.process([order])
        event, = order.subscriber.events
        self.assertIsNone(event.user)
        self.assertEqual(event.step, 'system')

    @with_transaction()
    def test_clerk_step_empty(self):
        "A change the clerk's own click applies names the clerk, no step"
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        number, = create_numbers('13800138002')
        order = activation(create_customer(), number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        Order.process([order])
        event, = order.subscriber.events
        self.assertEqual(event.user.id, Transaction().user)
        self.assertIsNone(event.step)
