"Group contracts: approval, expiry and renewal, and the orders they dispatch"
import datetime as dt
import unittest
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

from crm_group_customer.exceptions import GroupError
from crm_group_customer.tests.pipeline_tools import (
    active_contract,
    as_user,
    group_product,
    plans,
    signed_contract,
    staffed_group,
)
from crm_group_customer.tests.tools import add_member
from crm_telecom.tests.tools import BEFORE, line_since


class ContractTestCase(unittest.TestCase):
    "Group contracts and orders"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_group_customer')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    @with_transaction()
    def test_approval_activates_and_dispatches(self):
        """The director activates the signed contract, whose group product
        is opened when its order is done"""
        Contract = Pool().get('telecom.group.contract')
        Order = Pool().get('telecom.group.order')
        group, manager, director = staffed_group()
        vpn = group_product()
        plan = plans()["神州行 18元畅聊卡"]
        contract = signed_contract(group, manager,
            [(vpn, 3, '150'), (plan, 20, '18')])
        self.assertEqual(contract.monthly_amount, Decimal('810'))
        contract.document = None
        contract.save()
        with as_user(manager):
            Contract.submit([contract])
        self.assertEqual(contract.submitted_by, manager.employee)
        with as_user(director), self.assertRaises(GroupError) as cm:
            Contract.approve([contract])
        self.assertIn(contract.code, cm.exception.message)
        contract.document = b'%PDF-1.4'
        contract.save()
        with as_user(director):
            Contract.approve([contract])
        self.assertEqual(contract.state, 'active')
        self.assertEqual(contract.approved_by, director.employee)
        self.assertIsNotNone(contract.approved_at)

        # one order per group product, the plans are the members' own
        order, = contract.orders
        self.assertEqual((order.kind, order.state, order.quantity),
            ('product', 'dispatched', 3))
        self.assertEqual((contract.orders_pending, contract.orders_done),
            (1, 0))
        with as_user(manager):
            order = Order(order.id)
            order.quantity = 4
            order.save()
            Order.complete([order])
        self.assertEqual(order.state, 'done')
        product = order.group_product
        self.assertEqual((product.state, product.quantity,
                product.monthly_fee, product.end_date),
            ('active', 4, Decimal('150'), contract.end_date))
        self.assertEqual([e.kind for e in order.events],
            ['created', 'dispatched', 'modified', 'done'])
        modified = order.events[2]
        self.assertEqual(modified.employee, manager.employee)
        self.assertIn('3 → 4', modified.description)
        self.assertEqual((contract.orders_pending, contract.orders_done),
            (0, 1))
        with self.assertRaises(GroupError):
            order.quantity = 5
            order.save()

    @with_transaction()
    def test_member_orders(self):
        "Members join, leave and change plan through the contract's orders"
        pool = Pool()
        Order = pool.get('telecom.group.order')
        group, manager, director = staffed_group()
        plan_18, plan_58 = [plans()[n] for n in
            ["神州行 18元畅聊卡", "神州行 58元套餐"]]
        contract = active_contract(group, manager, director,
            [(plan_18, 10, '18')])
        joining = line_since(BEFORE, number='13800138001')
        leaving = add_member(group, line_since(BEFORE, number='13800138002'))
        changing = add_member(group, line_since(BEFORE, number='13800138003'))
        with as_user(manager):
            add, remove, change, withdrawn = Order.create([
                    {'contract': contract.id, 'kind': 'add_member',
                        'subscriber': joining.id},
                    {'contract': contract.id, 'kind': 'remove_member',
                        'member': leaving.id},
                    {'contract': contract.id, 'kind': 'change_plan',
                        'member': changing.id, 'plan': plan_58.id},
                    {'contract': contract.id, 'kind': 'remove_member',
                        'member': changing.id},
                    ])
            Order.write([add], {'paid_by_group': True})
            Order.withdraw([withdrawn])
            Order.dispatch([add, remove, change])
            # no network here: the service order is done at once, and so
            # is the plan change it carries
            self.assertEqual(change.telecom_order.state, 'done')
            self.assertEqual(change.state, 'done')
            Order.complete([add, remove])
        self.assertEqual(withdrawn.state, 'withdrawn')
        member = add.group_member
        self.assertEqual((member.subscriber, member.origin,
                member.paid_by_group, member.state),
            (joining, 'order', True, 'active'))
        self.assertEqual(leaving.state, 'left')
        self.assertEqual(changing.subscriber.plan, plan_58)
        self.assertEqual([e.kind for e in add.events],
            ['created', 'modified', 'dispatched', 'done'])
        self.assertEqual((contract.orders_pending, contract.orders_done),
            (0, 3))

    @with_transaction()
    def test_expiry_and_renewal(self):
        """Contracts ending within the reminder days expire, with one
        notice and one renewal opportunity; past their end they end"""
        pool = Pool()
        Contract = pool.get('telecom.group.contract')
        Notification = pool.get('res.notification')
        today = pool.get('ir.date').today()
        group, manager, director = staffed_group()
        plan = plans()["神州行 18元畅聊卡"]
        soon = active_contract(group, manager, director, [(plan, 5, '18')],
            start=today - dt.timedelta(days=300),
            end=today + dt.timedelta(days=30))
        later = active_contract(group, manager, director, [(plan, 5, '18')],
            end=today + dt.timedelta(days=200))

        self.assertEqual(Contract.remind_expiring(), [soon])
        self.assertEqual(Contract.remind_expiring(), [])
        self.assertEqual((soon.state, later.state), ('expiring', 'active'))
        renewal, = soon.renewals
        self.assertEqual((renewal.state, renewal.party, renewal.employee,
                renewal.expected_monthly_revenue),
            ('lead', group, manager.employee, Decimal('90')))
        notice, = Notification.search([('user', '=', manager.id)])
        self.assertIn(soon.code, notice.description)

        # moving it by hand and reminding again opens no second renewal
        Contract.write([soon], {'state': 'active'})
        Contract.remind_expiring()
        self.assertEqual(len(soon.renewals), 1)

        self.assertEqual(Contract.end_due(today + dt.timedelta(days=31)),
            [soon])
        self.assertEqual((soon.state, later.state), ('ended', 'active'))

    @with_transaction()
    def test_anniversary_care(self):
        """A live contract's anniversary within the reminder days raises
        one care reminder for the group's manager; the first days of a
        contract and ended contracts raise none"""
        pool = Pool()
        Care = pool.get('telecom.group.care')
        Contract = pool.get('telecom.group.contract')
        today = pool.get('ir.date').today()
        group, manager, director = staffed_group()
        plan = plans()["神州行 18元畅聊卡"]
        anniversary = today + dt.timedelta(days=3)
        signed = anniversary.replace(year=anniversary.year - 1)
        yearly = active_contract(group, manager, director, [(plan, 5, '18')],
            start=signed, end=signed.replace(year=signed.year + 3))
        active_contract(group, manager, director, [(plan, 5, '18')],
            start=today + dt.timedelta(days=2),
            end=today + dt.timedelta(days=400))
        ended = active_contract(group, manager, director, [(plan, 5, '18')],
            start=signed, end=signed.replace(year=signed.year + 3))
        Contract.write([ended], {'state': 'ended'})

        care, = [c for c in Care.generate(today) if c.kind == 'anniversary']
        self.assertEqual((care.origin, care.date, care.employee, care.group),
            (yearly, anniversary, manager.employee, group))
        self.assertEqual([c for c in Care.generate(today)
                if c.kind == 'anniversary'], [])
