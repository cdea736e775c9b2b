"""Group revenue by month from real bills, value levels, and the account
managers' performance with its Excel lists"""
import datetime as dt
import unittest
from decimal import Decimal
from unittest.mock import patch

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction

from crm_group_customer.tests.tools import (
    add_member,
    create_group,
    manager_staff,
)
from crm_service.tests.tools import as_user, create_request
from crm_telecom.tests.tools import (
    BEFORE,
    create_account,
    create_staff,
    line_since,
    setup_company,
    xlsx_report,
)

SEPTEMBER = dt.date(2026, 9, 1)
OCTOBER = dt.date(2026, 10, 1)


def bill(account, period_start, lines=(), amount=None):
    "An issued bill of a cycle with its lines [(line, kind, amount)]"
    Bill = Pool().get('telecom.bill')
    period_end = (period_start + dt.timedelta(days=32)).replace(day=1) \
        - dt.timedelta(days=1)
    lines = [(s, k, Decimal(a)) for s, k, a in lines]
    if amount is None:
        amount = sum((a for _, _, a in lines), Decimal(0))
    bill, = Bill.create([{
                'account': account.id,
                'payer': account.payer.id,
                'period_start': period_start,
                'period_end': period_end,
                'date': period_end + dt.timedelta(days=1),
                'due_date': period_end + dt.timedelta(days=20),
                'amount': Decimal(amount),
                'lines': [('create', [{
                                'subscriber': s.id if s else None,
                                'product': (s.plan.id
                                    if k == 'plan_fee' else None),
                                'kind': k, 'amount': a}
                            for s, k, a in lines])],
                }])
    return bill


class PerformanceTestCase(unittest.TestCase):
    "Group revenue, value levels and account manager performance"

    @classmethod
    def setUpClass(cls):
        # with customer service, for the complaints from the groups
        activate_module(['crm_group_customer', 'crm_service'])

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def setup_group(self):
        """A group of a manager with a member since September, one who
        left in September, one who joined in October, the bills of the
        September and October cycles and the group's own account"""
        pool = Pool()
        Member = pool.get('telecom.group.member')
        BillLine = pool.get('telecom.bill.line')
        self.manager, self.director = manager_staff()
        group = create_group(manager=self.manager)
        group.group_account = create_account(group)
        group.save()
        stays = line_since(BEFORE, number='13800138001')
        leaves = line_since(BEFORE, number='13800138002')
        joins = line_since(BEFORE, number='13800138003')
        add_member(group, stays, start_date=SEPTEMBER)
        self.stays = stays
        left = add_member(group, leaves, start_date=SEPTEMBER)
        Member.write([left], {'state': 'left',
                'end_date': dt.date(2026, 9, 20)})
        add_member(group, joins, start_date=dt.date(2026, 10, 10))
        bill(stays.account, SEPTEMBER, [(stays, 'plan_fee', 40)])
        bill(leaves.account, SEPTEMBER, [(leaves, 'plan_fee', 20)])
        october = bill(stays.account, OCTOBER, [(stays, 'plan_fee', 50)])
        bill(leaves.account, OCTOBER, [(leaves, 'plan_fee', 30)])
        bill(joins.account, OCTOBER, [(joins, 'plan_fee', 18)])
        bill(group.group_account, OCTOBER, [(None, 'adjustment', 100)])
        # what the group pays of a member's bill counts on its account only
        line = BillLine.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*line.insert(
                [line.bill, line.subscriber, line.kind, line.amount],
                [[october.id, stays.id, 'group_paid', Decimal(-10)]]))
        return group

    @with_transaction()
    def test_revenue_and_levels(self):
        """Revenue counts members for the cycles they were members and the
        group's account; the first matching rule sets the level"""
        pool = Pool()
        Revenue = pool.get('telecom.group.revenue')
        Rule = pool.get('telecom.group.level_rule')
        Party = pool.get('party.party')
        group = self.setup_group()
        other = create_group("小微商贸有限公司", sequence=2)

        revenues = Revenue.search([('group', '=', group.id)],
            order=[('month', 'ASC')])
        self.assertEqual([(r.month, r.member_amount, r.account_amount,
                    r.amount) for r in revenues], [
                (SEPTEMBER, Decimal(60), Decimal(0), Decimal(60)),
                (OCTOBER, Decimal(68), Decimal(100), Decimal(168)),
                ])
        self.assertEqual(len({r.id for r in revenues}), 2)

        rules = Rule.create([
                {'sequence': 10, 'level': 'a', 'min_revenue': Decimal(100)},
                {'sequence': 20, 'level': 'b', 'min_members': 2},
                {'sequence': 90, 'level': 'd'},
                ])
        # August to October: (60 + 168) / 3 = 76, two active members
        Party.compute_value_levels(date=dt.date(2026, 11, 15))
        self.assertEqual(Party(group.id).value_level, 'b')
        self.assertEqual(Party(other.id).value_level, 'd')
        Rule.write([rules[0]], {'min_revenue': Decimal(75)})
        Party.compute_value_levels([Party(group.id)],
            date=dt.date(2026, 11, 15))
        self.assertEqual(Party(group.id).value_level, 'a')
        self.assertEqual(Party(other.id).value_level, 'd')
        Rule.delete(rules)
        Party.compute_value_level([Party(other.id)])
        self.assertIsNone(Party(other.id).value_level)

    @with_transaction()
    def test_performance(self):
        """Per manager: revenue and growth, new members, opportunities won,
        visits; managers see their row, directors their subordinates'"""
        pool = Pool()
        Performance = pool.get('telecom.group.performance')
        Opportunity = pool.get('sale.opportunity')
        Visit = pool.get('telecom.group.visit')
        Request = pool.get('telecom.service_request')
        group = self.setup_group()
        other_manager, other_director = manager_staff(login='manager2',
            name="客户经理小李")
        create_group("小微商贸有限公司", sequence=2, manager=other_manager)
        company = setup_company()
        Opportunity.create([{'party': group.id, 'company': company.id,
                    'currency': company.currency.id,
                    'employee': self.manager.employee.id,
                    'start_date': dt.date(2026, 9, 1),
                    'end_date': dt.date(2026, 10, 20), 'state': 'won',
                    'description': "专线扩容"}])
        Visit.create([{'group': group.id,
                    'employee': self.manager.employee.id,
                    'date': dt.date(2026, 10, 5), 'kind': 'pre_sale',
                    'purpose': "专线方案"}])
        agent = create_staff('agent', 'group_call_centre', name="客服小李")
        with as_user(agent):
            complaints = [
                create_request(customer=group, type='complaint',
                    subject="专线中断"),
                create_request(self.stays, type='complaint'),
                create_request(self.stays, type='consultation'),
                create_request(self.stays, type='complaint'),
                ]
        request = Request.__table__()
        cursor = Transaction().connection.cursor()
        for complaint, created in zip(complaints, [
                    dt.datetime(2026, 10, 15, 2), dt.datetime(2026, 10, 16, 2),
                    dt.datetime(2026, 10, 17, 2), dt.datetime(2026, 11, 1, 2),
                    ]):
            cursor.execute(*request.update([request.create_date], [created],
                    where=request.id == complaint.id))
        october = {'from_date': OCTOBER, 'to_date': dt.date(2026, 10, 31)}

        with Transaction().set_context(october):
            rows = {r.employee: r for r in Performance.search([])}
        mine = rows[self.manager.employee]
        self.assertEqual(mine.groups, 1)
        self.assertEqual(mine.revenue, Decimal(168))
        self.assertEqual(mine.previous_revenue, Decimal(60))
        self.assertAlmostEqual(mine.growth, 1.8)
        self.assertEqual(mine.new_members, 1)
        self.assertEqual(mine.opportunities_won, 1)
        self.assertEqual(mine.visits, 1)
        self.assertEqual(mine.complaints, 2)
        theirs = rows[other_manager.employee]
        self.assertEqual(theirs.revenue, Decimal(0))
        self.assertIsNone(theirs.growth)

        for user, seen in [
                (self.manager, {self.manager.employee}),
                (self.director, {self.manager.employee}),
                (other_director, {other_manager.employee}),
                ]:
            with Transaction().set_user(user.id), \
                    Transaction().set_context(october, _check_access=True):
                self.assertEqual(
                    {r.employee for r in Performance.search([])}, seen)

        with Transaction().set_user(self.director.id), \
                Transaction().set_context(october):
            _, rows = xlsx_report('telecom.group.performance.xlsx')
        self.assertIn('2026-10-01', rows[0][0])
        self.assertEqual(rows[2][:3], ("Account Manager", "Groups",
                "Revenue"))
        self.assertEqual(rows[3:], [(self.manager.employee.rec_name,
                    1, 168, 60, 1.8, 1, 1, 1, 2)])

    @with_transaction()
    def test_group_list(self):
        "The group list shows the level, manager, members and revenue"
        pool = Pool()
        group = self.setup_group()
        with patch.object(pool.get('ir.date'), 'today',
                classmethod(lambda cls, timezone=None: dt.date(2026, 11, 3))):
            _, rows = xlsx_report('telecom.group.list.xlsx', [group.id])
        header = rows[2]
        self.assertEqual(header[-3:],
            ('Revenue 2026-08', 'Revenue 2026-09', 'Revenue 2026-10'))
        self.assertEqual(rows[3], (group.group_code, group.name, None,
                self.manager.employee.rec_name, 2, 0, 60, 168))
