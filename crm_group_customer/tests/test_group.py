"Group customers: their enterprise code, account manager history and members"
import unittest

from trytond.model.exceptions import SQLConstraintError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

from crm_group_customer.exceptions import GroupValidationError
from crm_group_customer.tests.tools import (
    add_member,
    create_group,
    manager_staff,
)
from crm_telecom.tests.tools import BEFORE, line_since, other_company


class GroupTestCase(unittest.TestCase):
    "Group customers"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_group_customer')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    @with_transaction()
    def test_group_code_and_uscc(self):
        "A group gets its code from the sequence and needs its USCC"
        Party = Pool().get('party.party')
        group = create_group()
        self.assertTrue(group.group_code.startswith('JT'))
        self.assertEqual(len(group.uscc), 18)
        self.assertEqual(Party.search([('uscc', '=', group.uscc)]), [group])
        with self.assertRaises(GroupValidationError) as cm:
            Party.create([{'name': "无代码集团", 'group_customer': True,
                        'group_scope': 'province'}])
        self.assertIn("无代码集团", cm.exception.message)

    @with_transaction()
    def test_manager_history(self):
        "Each reassignment closes the former manager's period"
        manager, director = manager_staff()
        other, _ = manager_staff(login='manager2', name="客户经理小李",
            director=director)
        group = create_group(manager=manager)
        self.assertEqual([a.employee for a in group.manager_assignments],
            [manager.employee])
        group.account_manager = other.employee
        group.save()
        assignments = sorted(group.manager_assignments, key=lambda a: a.id)
        self.assertEqual([a.employee for a in assignments],
            [manager.employee, other.employee])
        self.assertIsNotNone(assignments[0].end_date)
        self.assertIsNone(assignments[1].end_date)

    @with_transaction()
    def test_member_join_and_leave(self):
        "A line is an active member of one group at a time"
        group = create_group()
        line = line_since(BEFORE)
        add_member(group, line, paid_by_group=True)
        self.assertEqual(group.member_count, 1)
        with self.assertRaises(SQLConstraintError):
            add_member(create_group("另一集团", sequence=2), line)

    @with_transaction()
    def test_member_leave(self):
        "Leaving sets the day and stops the group's payment"
        Member = Pool().get('telecom.group.member')
        group = create_group()
        member = add_member(group, line_since(BEFORE), paid_by_group=True)
        Member.leave([member])
        self.assertEqual(member.state, 'left')
        self.assertIsNotNone(member.end_date)
        self.assertFalse(member.paid_by_group)
        # the line may join another group afterwards
        add_member(create_group("另一集团", sequence=2), member.subscriber)

    @with_transaction()
    def test_member_other_company(self):
        "A line of another company cannot join the group"
        Member = Pool().get('telecom.group.member')
        group = create_group()
        line = line_since(BEFORE)
        with self.assertRaises(GroupValidationError) as cm:
            Member.create([{'group': group.id, 'subscriber': line.id,
                        'company': other_company().id}])
        self.assertIn(line.rec_name, cm.exception.message)
