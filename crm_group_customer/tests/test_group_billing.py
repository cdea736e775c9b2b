"Groups on a real bill run: products, tariff discounts and group payment"
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction

from crm_group_customer.tests.test_tariff import (
    PLAN,
    approve_all,
    create_tariff,
)
from crm_group_customer.tests.tools import add_member, create_group
from crm_telecom.tests.tools import BEFORE, CYCLE, create_account, line_since

NEXT = dt.date(2026, 12, 1)


class GroupBillingTestCase(unittest.TestCase):
    "Groups on the bills"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_group_customer')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def group(self):
        "A group with its own billing account"
        group = create_group()
        group.group_account = create_account(group)
        group.save()
        return group

    def bill_cycle(self, period_start=CYCLE):
        BillRun = Pool().get('telecom.bill.run')
        run, = BillRun.create([{'period_start': period_start}])
        BillRun.process([run], commit=False)
        return run

    def bill_of(self, account, period_start=CYCLE):
        Bill = Pool().get('telecom.bill')
        bill, = Bill.search([('account', '=', account.id),
                ('period_start', '=', period_start)])
        return bill

    def lines(self, bill, kind):
        return [l for l in bill.lines if l.kind == kind]

    def approved_tariff(self, group, discounts, **values):
        Tariff = Pool().get('telecom.group.tariff')
        tariff = create_tariff(group, discounts, **values)
        Tariff.submit([tariff])
        return approve_all(tariff)

    @with_transaction()
    def test_discount_on_plan(self):
        "A 25% approved tariff on the plan: a discount line naming it"
        group = self.group()
        member = line_since(BEFORE)
        add_member(group, member, start_date=BEFORE)
        tariff = self.approved_tariff(group, {PLAN: '25'})
        self.bill_cycle()
        bill = self.bill_of(member.account)
        discount, = self.lines(bill, 'group_discount')
        self.assertEqual(discount.amount, D('-4.50'))
        self.assertEqual(discount.group_tariff_line, tariff.lines[0])
        self.assertEqual(discount.subscriber, member)
        self.assertIn(tariff.name, discount.description)
        self.assertIn('25', discount.description)
        self.assertEqual(bill.amount, D('13.50'))

    @with_transaction()
    def test_unapproved_or_rejected_never_applies(self):
        "Pending and rejected tariffs give no discount"
        Tariff = Pool().get('telecom.group.tariff')
        group = self.group()
        pending = line_since(BEFORE, number='13800138001')
        add_member(group, pending, start_date=BEFORE)
        tariff = create_tariff(group, {PLAN: '25'})
        Tariff.submit([tariff])
        other = create_group("另一集团", sequence=2)
        rejected = line_since(BEFORE, number='13800138002')
        add_member(other, rejected, start_date=BEFORE)
        refused = create_tariff(other, {PLAN: '25'})
        Tariff.submit([refused])
        with Transaction().set_user(0):
            Tariff.reject([refused])
        self.bill_cycle()
        for line in [pending, rejected]:
            bill = self.bill_of(line.account)
            self.assertEqual(self.lines(bill, 'group_discount'), [])
            self.assertEqual(bill.amount, D('18.00'))

    @with_transaction()
    def test_group_payment(self):
        """The group pays up to the cap (the member the rest) or all; its
        account is charged on its next bill; no money is lost"""
        pool = Pool()
        Adjustment = pool.get('telecom.bill.adjustment')
        Template = pool.get('product.template')
        GroupProduct = pool.get('telecom.group.product')
        ModelData = pool.get('ir.model.data')
        group = self.group()
        capped = line_since(BEFORE, number='13800138001')
        full = line_since(BEFORE, number='13800138002')
        add_member(group, capped, paid_by_group=True, payment_cap=D('10'),
            start_date=BEFORE)
        add_member(group, full, paid_by_group=True, start_date=BEFORE)
        vnet, = Template.create([{'name': "集团V网", 'type': 'service',
                    'default_uom': ModelData.get_id('product', 'uom_unit'),
                    'telecom_type': 'group', 'group_product_kind': 'cug_voice',
                    'monthly_fee': D('50')}])
        product, = GroupProduct.create([{'group': group.id,
                    'product': vnet.id, 'company': group.company.id,
                    'quantity': 2, 'monthly_fee': D('50'),
                    'start_date': BEFORE}])
        GroupProduct.activate([product])
        self.approved_tariff(group, {PLAN: '25', "集团V网": '10'})
        self.bill_cycle()

        capped_bill = self.bill_of(capped.account)
        paid, = self.lines(capped_bill, 'group_paid')
        self.assertEqual(paid.amount, D('-10.00'))
        self.assertIn(group.rec_name, paid.description)
        self.assertEqual(capped_bill.amount, D('3.50'))
        full_bill = self.bill_of(full.account)
        self.assertEqual(self.lines(full_bill, 'group_paid')[0].amount,
            D('-13.50'))
        self.assertEqual(full_bill.amount, D('0'))

        group_bill = self.bill_of(group.group_account)
        fee, = self.lines(group_bill, 'group_product')
        self.assertEqual((fee.quantity, fee.amount), (2, D('100.00')))
        self.assertIn("集团V网", fee.description)
        discount, = self.lines(group_bill, 'group_discount')
        self.assertEqual(discount.amount, D('-10.00'))
        # the payments of this run wait for the group's next bill
        self.assertEqual(self.lines(group_bill, 'adjustment'), [])
        self.assertEqual(group_bill.amount, D('90.00'))

        # one adjustment per group and run adds up what it paid
        adjustment, = Adjustment.search([
                ('account', '=', group.group_account.id)])
        self.assertEqual(adjustment.amount, D('23.50'))
        self.assertEqual(adjustment.state, 'approved')
        self.assertEqual(adjustment.group, group)
        self.assertEqual(adjustment.group_run, capped_bill.run)
        self.assertEqual(sorted(l.id for l in adjustment.group_paid_lines),
            sorted([paid.id, self.lines(full_bill, 'group_paid')[0].id]))
        self.assertIn('2 ', adjustment.reason)
        self.assertIn('2026-11-01', adjustment.reason)
        # members' bills + what the group is charged = charges - discounts
        charges = 2 * D('18') + D('100')
        discounts = 2 * D('4.50') + D('10')
        self.assertEqual(capped_bill.amount + full_bill.amount
            + group_bill.amount + adjustment.amount, charges - discounts)

        self.bill_cycle(NEXT)
        next_bill = self.bill_of(group.group_account, NEXT)
        billed, = self.lines(next_bill, 'adjustment')
        self.assertEqual(billed.amount, D('23.50'))
        self.assertIn('2026-11-01', billed.description)

    @with_transaction()
    def test_member_left_in_cycle(self):
        "A member who left in the cycle has the discount that cycle only"
        Member = Pool().get('telecom.group.member')
        group = self.group()
        line = line_since(BEFORE)
        member = add_member(group, line, start_date=BEFORE)
        self.approved_tariff(group, {PLAN: '25'})
        Member.write([member], {'state': 'left',
                'end_date': dt.date(2026, 11, 15)})
        self.bill_cycle()
        self.assertEqual(len(self.lines(self.bill_of(line.account),
                    'group_discount')), 1)
        self.bill_cycle(NEXT)
        self.assertEqual(self.lines(self.bill_of(line.account, NEXT),
                'group_discount'), [])

    @with_transaction()
    def test_line_changing_group_in_cycle(self):
        """A line that leaves a group and joins another in one cycle has
        the discount and the payment of the group it joined, once"""
        Member = Pool().get('telecom.group.member')
        first = self.group()
        second = create_group("另一集团", sequence=2)
        second.group_account = create_account(second)
        second.save()
        line = line_since(BEFORE)
        member = add_member(first, line, start_date=BEFORE,
            paid_by_group=True)
        self.approved_tariff(first, {PLAN: '10'})
        self.approved_tariff(second, {PLAN: '25'})
        Member.leave([member])
        Member.write([member], {'end_date': dt.date(2026, 11, 10)})
        add_member(second, line, start_date=dt.date(2026, 11, 11),
            paid_by_group=True, payment_cap=D('5'))
        self.bill_cycle()
        bill = self.bill_of(line.account)
        discount, = self.lines(bill, 'group_discount')
        self.assertEqual(discount.amount, D('-4.50'))
        paid, = self.lines(bill, 'group_paid')
        self.assertEqual(paid.amount, D('-5.00'))
        self.assertEqual(bill.amount, D('8.50'))
