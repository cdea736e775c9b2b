"Who sees which group customers, their members and products"
import contextlib
import unittest

from trytond.model.exceptions import AccessError
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
from crm_telecom.tests.tools import (
    BEFORE,
    create_customer,
    create_staff,
    line_since,
    other_company,
    setup_company,
)

HEADQUARTERS = "中国移动通信集团有限公司"


@contextlib.contextmanager
def as_user(user):
    "Work as a staff user, in their company and as their employee"
    transaction = Transaction()
    with transaction.set_user(user.id), transaction.set_context(
            company=user.company.id, employee=user.employee.id,
            _check_access=True):
        yield


class GroupRulesTestCase(unittest.TestCase):
    "Group visibility"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_group_customer')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def staff(self):
        """Two managers under one director, a third under another; a
        province group each, and a national group of the second"""
        manager, director = manager_staff()
        second, _ = manager_staff(login='manager2', name="客户经理小李",
            director=director)
        third, other_director = manager_staff(login='manager3',
            name="客户经理小王")
        groups = {
            'first': create_group("一号集团", sequence=1, manager=manager),
            'second': create_group("二号集团", sequence=2, manager=second),
            'national': create_group("全国集团", sequence=3, manager=second,
                group_scope='national'),
            'third': create_group("三号集团", sequence=4, manager=third),
            }
        members = {
            'first': add_member(groups['first'],
                line_since(BEFORE, number='13800138001')),
            'second': add_member(groups['second'],
                line_since(BEFORE, number='13800138002')),
            'national': add_member(groups['national'],
                line_since(BEFORE, number='13800138003')),
            }
        return (manager, second, director, other_director), groups, members

    def visible(self, model, records):
        Model = Pool().get(model)
        return set(Model.search([('id', 'in', [r.id for r in records])]))

    @with_transaction()
    def test_manager(self):
        "An account manager sees their groups only, and every individual"
        Party = Pool().get('party.party')
        Member = Pool().get('telecom.group.member')
        (manager, *_), groups, members = self.staff()
        customer = create_customer("李四", sequence=9)
        with as_user(manager):
            self.assertEqual(
                set(Party.search([('group_customer', '=', True)])),
                {groups['first']})
            self.assertEqual(self.visible('party.party', [customer]),
                {customer})
            with self.assertRaises(AccessError):
                Party.read([groups['second'].id], ['name'])
            self.assertEqual(set(Member.search([])), {members['first']})
            with self.assertRaises(AccessError):
                Member.read([members['second'].id], ['group'])
            # the member list of the group's form
            group = Party(groups['first'].id)
            self.assertEqual(list(group.group_members), [members['first']])
            self.assertEqual(
                Pool().get('telecom.group.product').search([]), [])

    @with_transaction()
    def test_director(self):
        "A director sees the groups of their managers, not of others"
        Party = Pool().get('party.party')
        Member = Pool().get('telecom.group.member')
        (_, _, director, other), groups, members = self.staff()
        with as_user(director):
            self.assertEqual(
                set(Party.search([('group_customer', '=', True)])),
                {groups['first'], groups['second'], groups['national']})
            self.assertEqual(set(Member.search([])), set(members.values()))
        with as_user(other):
            self.assertEqual(
                set(Party.search([('group_customer', '=', True)])),
                {groups['third']})
            self.assertEqual(Member.search([]), [])

    @with_transaction()
    def test_other_company(self):
        "Staff of another province company see none of its groups"
        Party = Pool().get('party.party')
        _, groups, members = self.staff()
        hong_kong = other_company()
        stranger = create_staff('hk_director', 'group_group_director',
            company=hong_kong, name="香港总监")
        analyst = create_staff('hk_analyst', 'group_analyst',
            company=hong_kong, name="香港分析")
        setup_company()
        for user in [stranger, analyst]:
            with as_user(user):
                self.assertEqual(
                    Party.search([('group_customer', '=', True)]), [])
                self.assertEqual(
                    self.visible('telecom.group.member', members.values()),
                    set())

    @with_transaction()
    def test_headquarters(self):
        "Headquarters' approvers see the national groups of the provinces"
        pool = Pool()
        Party = pool.get('party.party')
        Member = pool.get('telecom.group.member')
        User = pool.get('res.user')
        _, groups, members = self.staff()
        province = setup_company()
        headquarters = other_company(HEADQUARTERS)
        approver = create_staff('hq_approver',
            'crm_group_customer.group_hq_approver', company=headquarters,
            name="总部审批")
        User.write([approver], {
                'companies': [('add', [province.id])],
                'company_filter': 'all',
                })
        setup_company()
        with as_user(approver):
            self.assertEqual(
                set(Party.search([('group_customer', '=', True)])),
                {groups['national']})
            self.assertEqual(set(Member.search([])), {members['national']})
            with self.assertRaises(AccessError):
                Party.read([groups['first'].id], ['name'])

    @with_transaction()
    def test_province_approver(self):
        "A province approver sees every group of the province"
        Party = Pool().get('party.party')
        _, groups, _ = self.staff()
        approver = create_staff('approver',
            'crm_group_customer.group_province_approver', name="省审批")
        with as_user(approver):
            self.assertEqual(
                set(Party.search([('group_customer', '=', True)])),
                set(groups.values()))
