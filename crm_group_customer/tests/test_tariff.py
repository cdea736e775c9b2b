"Group tariffs and their approval by depth and deal size"
import unittest
from decimal import Decimal as D

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction

from crm_group_customer.exceptions import GroupError, GroupValidationError
from crm_group_customer.tests.tools import create_group
from crm_telecom.tests.tools import (
    BEFORE,
    create_staff,
    other_company,
    setup_reference,
)

PLAN = "神州行 18元畅聊卡"
ADDON = "语音包 15元100分钟"


def create_tariff(group, discounts, monthly_amount=D('10000'), name="2026年集团资费",
        valid_from=BEFORE, valid_to=None):
    "A draft tariff of the group: {product name: discount}"
    Tariff = Pool().get('telecom.group.tariff')
    products = setup_reference()[2]
    tariff, = Tariff.create([{
                'group': group.id,
                'company': group.company.id,
                'name': name,
                'valid_from': valid_from,
                'valid_to': valid_to,
                'monthly_amount': monthly_amount,
                'lines': [('create', [{
                                'product': products[p].id,
                                'discount': D(d),
                                } for p, d in discounts.items()])],
                }])
    return tariff


def as_user(user):
    return Transaction().set_user(user.id if user else 0)


def approve_all(tariff):
    "Every step approved (as root, which every level lets act)"
    Tariff = Pool().get('telecom.group.tariff')
    with Transaction().set_user(0):
        while Tariff(tariff.id).state == 'pending':
            Tariff.approve([tariff])
    return Tariff(tariff.id)


class TariffTestCase(unittest.TestCase):
    "Group tariffs"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_group_customer')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def staff(self):
        "manager, director, province and headquarters approvers"
        manager = create_staff('manager', 'group_account_manager')
        director = create_staff('director', 'group_group_director')
        province = create_staff('province',
            'crm_group_customer.group_province_approver')
        hq = create_staff('hq', 'crm_group_customer.group_hq_approver',
            company=other_company())
        return manager, director, province, hq

    def line_of(self, tariff, product):
        return [l for l in tariff.lines if l.product.name == product][0]

    @with_transaction()
    def test_matrix_levels(self):
        "The first rule whose limits hold says who approves"
        Rule = Pool().get('telecom.group.approval.rule')
        self.assertEqual(Rule.levels_for(D('8'), D('40000')), ['director'])
        self.assertEqual(Rule.levels_for(D('8'), D('60000')),
            ['director', 'province'])
        self.assertEqual(Rule.levels_for(D('25'), D('1000')),
            ['director', 'province'])
        self.assertEqual(Rule.levels_for(D('40'), D('1000')),
            ['director', 'province', 'headquarters'])
        Rule.write(Rule.search([('max_discount', '=', 100)]),
            {'max_discount': D('50')})
        with self.assertRaises(GroupError) as cm:
            Rule.levels_for(D('60'), D('1000'))
        self.assertIn('60', cm.exception.message)

    @with_transaction()
    def test_sequential_steps(self):
        "Steps go in order, each by its level, never by who submitted"
        pool = Pool()
        Tariff = pool.get('telecom.group.tariff')
        Approval = pool.get('telecom.group.tariff.approval')
        manager, director, province, hq = self.staff()
        tariff = create_tariff(create_group(), {PLAN: '40'})
        with as_user(director):
            Tariff.submit([tariff])
        steps = sorted(tariff.approvals, key=lambda s: s.sequence)
        self.assertEqual([(s.level, s.state) for s in steps], [
                ('director', 'pending'), ('province', 'waiting'),
                ('headquarters', 'waiting')])
        self.assertEqual(tariff.lines[0].state, 'pending')
        # the submitter, a manager, headquarters of another company: no
        for user in [director, manager, hq]:
            with as_user(user), self.assertRaises(GroupError):
                Tariff.approve([tariff])
        with as_user(create_staff('director2', 'group_group_director')):
            Tariff.approve([tariff])
        steps = [Approval(s.id) for s in steps]
        self.assertEqual([s.state for s in steps],
            ['approved', 'pending', 'waiting'])
        self.assertEqual(steps[0].approver.login, 'director2')
        self.assertIsNotNone(steps[0].approver_employee)
        self.assertIsNotNone(steps[0].date)
        # a director is not the province company
        with as_user(manager), self.assertRaises(GroupError):
            Approval.approve([steps[1]])
        with as_user(province):
            Approval.approve([steps[1]])
        self.assertIsNone(Tariff(tariff.id).lines[0].approved_discount)
        with as_user(hq):
            Tariff.approve([tariff])
        line = Tariff(tariff.id).lines[0]
        self.assertEqual((line.state, line.approved_discount),
            ('approved', D('40')))

    @with_transaction()
    def test_reapproval_of_changed_line(self):
        "A changed line is approved again, the others stay approved"
        pool = Pool()
        Tariff = pool.get('telecom.group.tariff')
        Line = pool.get('telecom.group.tariff.line')
        tariff = create_tariff(create_group(), {PLAN: '5', ADDON: '5'})
        Tariff.submit([tariff])
        tariff = approve_all(tariff)
        self.assertEqual(tariff.state, 'approved')
        plan, addon = self.line_of(tariff, PLAN), self.line_of(tariff, ADDON)
        plan_steps = len(plan.approvals)
        Line.write([addon], {'discount': D('8')})
        self.assertEqual((Line(addon.id).state, Line(plan.id).state),
            ('draft', 'approved'))
        Tariff.submit([tariff])
        self.assertEqual(Line(addon.id).state, 'pending')
        self.assertEqual(Line(addon.id).approved_discount, D('5'))
        tariff = approve_all(tariff)
        plan, addon = Line(plan.id), Line(addon.id)
        self.assertEqual(addon.approved_discount, D('8'))
        self.assertEqual(len(plan.approvals), plan_steps)
        self.assertEqual(len(addon.approvals), 2)

    @with_transaction()
    def test_rejection(self):
        "A rejected change keeps the discount approved before"
        pool = Pool()
        Tariff = pool.get('telecom.group.tariff')
        Line = pool.get('telecom.group.tariff.line')
        tariff = create_tariff(create_group(), {PLAN: '5'})
        Tariff.submit([tariff])
        tariff = approve_all(tariff)
        line = tariff.lines[0]
        Line.write([line], {'discount': D('20')})
        Tariff.submit([tariff])
        with as_user(None):
            Tariff.reject([tariff])
        line = Line(line.id)
        self.assertEqual((line.state, line.approved_discount),
            ('rejected', D('5')))
        self.assertEqual({s.state for s in line.approvals if s.discount == 20},
            {'rejected', 'cancelled'})
        # a new line rejected never applies
        new = create_tariff(create_group("另一集团", sequence=2), {PLAN: '5'})
        Tariff.submit([new])
        with as_user(None):
            Tariff.reject([new])
        self.assertIsNone(Tariff(new.id).lines[0].approved_discount)

    @with_transaction()
    def test_overlap(self):
        "One applying discount per group and product at a time"
        Tariff = Pool().get('telecom.group.tariff')
        group = create_group()
        tariff = create_tariff(group, {PLAN: '5'})
        Tariff.submit([tariff])
        approve_all(tariff)
        other = create_tariff(group, {PLAN: '6'}, name="补充资费")
        with self.assertRaises(GroupValidationError) as cm:
            Tariff.submit([other])
        self.assertIn(PLAN, cm.exception.message)
