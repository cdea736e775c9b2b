"Import of a group's members from a CSV file: all or nothing"
import contextlib
import unittest
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction

from crm_group_customer.exceptions import GroupError
from crm_group_customer.member_import import import_members
from crm_group_customer.tests.tools import (
    add_member,
    create_group,
    manager_staff,
)
from crm_telecom import identity
from crm_telecom.tests.tools import (
    BEFORE,
    line_since,
    load_chinese,
    other_company,
)


@contextlib.contextmanager
def as_user(user):
    transaction = Transaction()
    with transaction.set_user(user.id), transaction.set_context(
            company=user.company.id, employee=user.employee.id,
            _check_access=True):
        yield


def csv(*rows):
    return ('\n'.join(rows) + '\n').encode('utf-8')


class MemberImportTestCase(unittest.TestCase):
    "Member import"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_group_customer')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def members(self, group):
        Member = Pool().get('telecom.group.member')
        return Member.search([('group', '=', group.id)],
            order=[('id', 'ASC')])

    @with_transaction()
    def test_good_file(self):
        "Every row becomes an imported member, with its payment"
        manager, _ = manager_staff()
        group = create_group(manager=manager)
        line_since(BEFORE, number='13800138001')
        line_since(BEFORE, number='13800138002')
        line_since(BEFORE, number='13800138003')
        data = csv('号码,集团统付,统付上限',
            '13800138001,是,50',
            '',
            '+86 138 0013 8002,0,',
            '13800138003')
        with as_user(manager):
            count, problems = import_members(group, data)
        self.assertEqual((count, problems), (3, []))
        members = self.members(group)
        self.assertEqual([m.subscriber.number.number for m in members],
            ['13800138001', '13800138002', '13800138003'])
        self.assertEqual({m.origin for m in members}, {'import'})
        self.assertEqual({m.state for m in members}, {'active'})
        self.assertEqual([m.paid_by_group for m in members],
            [True, False, False])
        self.assertEqual(members[0].payment_cap, Decimal('50'))
        self.assertEqual(group.member_count, 3)

    @with_transaction()
    def test_every_error(self):
        "Every failing row is reported in Chinese; nothing is written"
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        manager, _ = manager_staff()
        group = create_group(manager=manager)
        other = create_group("另一集团", sequence=2)
        good = line_since(BEFORE, number='13800138001')
        here = line_since(BEFORE, number='13800138002')
        there = line_since(BEFORE, number='13800138003')
        ended = line_since(BEFORE, number='13800138004')
        foreign = line_since(BEFORE, number='13800138005')
        add_member(group, here)
        add_member(other, there)
        Subscriber.write([ended], {'state': 'terminated'})
        company = other_company()
        Subscriber.write([foreign], {'company': company.id})
        data = csv(
            '13800138001,1,30',        # row 1: good
            '1380013800',               # 2: format
            '13800138009',              # 3: no line
            '13800138004',              # 4: terminated line
            '13800138005',              # 5: another company
            '13800138002',              # 6: member of this group
            '13800138003',              # 7: member of another group
            '13800138001',              # 8: twice in the file
            '13900139000,也许',          # 9: paid by group
            '13900139001,1,-5',         # 10: cap
            '13900139002,0,20')         # 11: cap without payment
        load_chinese('crm_group_customer')
        with as_user(manager), Transaction().set_context(language='zh_CN'):
            count, problems = import_members(group, data)
            texts = [p.text for p in problems]
        self.assertEqual(count, 0)
        self.assertEqual([p.row for p in problems], list(range(2, 12)))
        self.assertEqual([p.message for p in problems], [
                'msg_member_import_number_format',
                'msg_member_import_number_unknown',
                'msg_member_import_number_unknown',
                'msg_member_import_other_company',
                'msg_member_import_member_here',
                'msg_member_import_member_other',
                'msg_member_import_duplicate',
                'msg_member_import_paid_by_group',
                'msg_member_import_payment_cap',
                'msg_member_import_cap_unpaid',
                ])
        # the row, the value and the reason
        self.assertIn('1380013800', texts[0])
        self.assertIn('2', texts[0])
        self.assertIn('也许', texts[7])
        self.assertIn('-5', texts[8])
        self.assertNotIn(other.name, '\n'.join(texts))
        for text in texts:
            self.assertRegex(text, '[\u4e00-\u9fff]')
        self.assertEqual([m.subscriber for m in self.members(group)],
            [here])
        self.assertFalse(Pool().get('telecom.group.member').search([
                    ('subscriber', '=', good.id)]))

    @with_transaction()
    def test_wizard_all_or_nothing(self):
        "The wizard lists the failing rows, then imports the fixed file"
        pool = Pool()
        Wizard = pool.get('telecom.group.member.import', type='wizard')
        group = create_group()
        line_since(BEFORE, number='13800138001')
        session_id, _, _ = Wizard.create()
        wizard = Wizard(session_id)
        with Transaction().set_context(active_model='party.party',
                active_id=group.id):
            self.assertEqual(wizard.default_start(['group'])['group'],
                group.id)
        wizard.start.group = group
        wizard.start.file = csv('13800138001', 'abc')
        self.assertEqual(wizard.transition_import_(), 'result')
        self.assertTrue(wizard.result.failed)
        self.assertIn('abc', wizard.result.problems)
        self.assertFalse(self.members(group))
        wizard.start.file = csv('13800138001')
        wizard.transition_import_()
        self.assertFalse(wizard.result.failed)
        self.assertEqual(wizard.result.imported, 1)
        self.assertEqual(len(self.members(group)), 1)

    @with_transaction()
    def test_empty_and_unseen(self):
        "An empty file, or a group the user may not see, is refused"
        manager, director = manager_staff()
        other, _ = manager_staff(login='manager2', name="客户经理小李",
            director=director)
        group = create_group(manager=other)
        with self.assertRaises(GroupError):
            import_members(group, csv('号码'))
        with as_user(manager), self.assertRaises(GroupError):
            import_members(group, csv('13800138001'))

    @with_transaction()
    def test_masking(self):
        "The import shows the manager no resident ID"
        manager, _ = manager_staff()
        group = create_group(manager=manager)
        line = line_since(BEFORE, number='13800138001')
        code = line.customer.identity_code
        with as_user(manager):
            count, _ = import_members(group, csv('13800138001'))
            self.assertEqual(count, 1)
            Member = Pool().get('telecom.group.member')
            rows = Member.search_read([('group', '=', group.id)],
                fields_names=['subscriber.customer.identity_code'])
        self.assertNotIn(code, str(rows))
        self.assertIn(identity.mask(code), str(rows))
