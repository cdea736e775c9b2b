"""Administrator-defined fields on the forms: every active one is shown at
once, in its order, and the administrator's screen speaks plainly"""
import datetime as dt
import json
import unittest

from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.tools import (
    create_customer,
    create_staff,
    line_since,
    load_chinese,
)

# the words of the core's schema screen that mean nothing to an operator
DEVELOPER_WORDS = ['字符串', '域', '整型', '浮点型', '数值型', '字符型',
    '布尔型', 'Color', 'JSON']
TYPES = [('char', "文本"), ('integer', "整数"), ('float', "小数"),
    ('numeric', "金额"), ('boolean', "是/否"), ('date', "日期"),
    ('datetime', "日期时间"), ('selection', "单选"),
    ('multiselection', "多选")]


def as_user(user):
    "As the client calls: that user, access checked, in Chinese"
    transaction = Transaction()
    return transaction.set_user(user.id), transaction.set_context(
        _check_access=True, language='zh_CN')


class ExtraFieldsTestCase(unittest.TestCase):
    "Extra fields on customer and line forms, and their definition screen"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    def define(self):
        ExtraField = Pool().get('telecom.extra_field')
        return ExtraField.create([
                {'name': 'occupation', 'string': "职业", 'sequence': 20,
                    'type_': 'selection', 'target': 'party.party',
                    'selection': 'teacher:教师\nengineer:工程师'},
                {'name': 'nickname', 'string': "昵称", 'sequence': 10,
                    'type_': 'char', 'target': 'party.party'},
                {'name': 'student', 'string': "是否学生", 'sequence': 30,
                    'type_': 'boolean', 'target': 'party.party'},
                {'name': 'vip_since', 'string': "VIP 起始日", 'sequence': 40,
                    'type_': 'date', 'target': 'party.party'},
                {'name': 'old_code', 'string': "旧系统编号", 'active': False,
                    'type_': 'char', 'target': 'party.party'},
                {'name': 'device', 'string': "终端型号",
                    'type_': 'char', 'target': 'telecom.subscriber'},
                ])

    @with_transaction()
    def test_every_active_field_on_the_forms(self):
        "New and existing customers and lines show every active key"
        pool = Pool()
        Party = pool.get('party.party')
        Subscriber = pool.get('telecom.subscriber')
        self.define()
        party = create_customer(extra={'occupation': 'teacher'})
        subscriber = line_since(dt.date(2026, 10, 1), customer=party)
        clerk = create_staff('clerk', 'group_clerk')

        user, context = as_user(clerk)
        with user, context:
            default = Party.default_get(['extra'])['extra']
            self.assertEqual(list(default),
                ['nickname', 'occupation', 'student', 'vip_since'])
            self.assertEqual(set(default.values()), {None})
            self.assertEqual(Subscriber.default_get(['extra'])['extra'],
                {'device': None})

            row, = Party.read([party.id], ['extra'])
            # the stored value, the others as sao's empty entries give back
            self.assertEqual(row['extra'], {'nickname': '',
                    'occupation': 'teacher', 'student': False,
                    'vip_since': None})
            row, = Subscriber.read([subscriber.id], ['extra'])
            self.assertEqual(row['extra'], {'device': ''})

        # exports and the server's own reads keep the stored value
        self.assertEqual(Party(party.id).extra, {'occupation': 'teacher'})
        self.assertIsNone(Subscriber(subscriber.id).extra)
        with user, context:
            rows = Party.export_data([Party(party.id)], ['extra'])
        self.assertNotIn('nickname', json.dumps(rows))

    @with_transaction()
    def test_empty_values_not_stored(self):
        "What the form sends back for empty keys is no value"
        pool = Pool()
        Party = pool.get('party.party')
        ExtraField = pool.get('telecom.extra_field')
        self.define()
        party = create_customer()
        self.assertIsNone(Party(party.id).extra)
        Party.write([party], {'extra': {'nickname': '', 'vip_since': None,
                    'student': False, 'occupation': 'engineer'}})
        self.assertEqual(Party(party.id).extra,
            {'student': False, 'occupation': 'engineer'})

        # a field taken off the forms keeps its values, which stay valid
        Party.write([party], {'extra': {'old_code': 'X1'}})
        occupation, = ExtraField.search([('name', '=', 'occupation')])
        ExtraField.write([occupation], {'active': False})
        Party.write([party], {'extra': {'old_code': 'X2',
                    'occupation': 'teacher'}})
        clerk = create_staff('clerk', 'group_clerk')
        user, context = as_user(clerk)
        with user, context:
            row, = Party.read([party.id], ['extra'])
        self.assertEqual(row['extra'], {'nickname': '', 'old_code': 'X2',
                'occupation': 'teacher', 'student': False, 'vip_since': None})
        with self.assertRaises(ValidationError):
            Party.write([party], {'extra': {'occupation': 'pilot'}})

    @with_transaction()
    def test_field_name(self):
        "The key is proposed from a Latin label and refused in plain words"
        ExtraField = Pool().get('telecom.extra_field')
        load_chinese('ir', 'crm_telecom')
        field = ExtraField(string="Monthly Income")
        field.on_change_string()
        self.assertEqual(field.name, 'monthly_income')
        field = ExtraField(string="职业")
        field.on_change_string()
        self.assertIsNone(field.name)
        with Transaction().set_context(language='zh_CN'), \
                self.assertRaises(ValidationError) as cm:
            ExtraField.create([{'name': '职业', 'string': "职业",
                        'type_': 'char', 'target': 'party.party'}])
        self.assertIn('字段名称“职业”无效', cm.exception.message)

    @with_transaction()
    def test_admin_screen_in_chinese(self):
        "The definition screen has no developer words, only useful types"
        ExtraField = Pool().get('telecom.extra_field')
        load_chinese('ir', 'crm_telecom')
        admin = create_staff('telecom_admin', 'group_admin')
        user, context = as_user(admin)
        with user, context:
            form = ExtraField.fields_view_get(view_type='form')
            tree = ExtraField.fields_view_get(view_type='tree')
        text = json.dumps([form, tree], ensure_ascii=False, default=str)
        for word in DEVELOPER_WORDS:
            self.assertNotIn(word, text)
        for name in ['domain', 'digits', 'selection_sorted',
                'help_selection']:
            self.assertNotIn(name, form['fields'])
        fields = form['fields']
        self.assertEqual(fields['name']['string'], "字段名称")
        self.assertEqual(fields['string']['string'], "显示名称")
        self.assertEqual(fields['type_']['string'], "类型")
        self.assertEqual([tuple(s) for s in fields['type_']['selection']],
            TYPES)
        for name in ['name', 'string', 'type_', 'selection', 'help']:
            self.assertRegex(fields[name]['help'], r'[\u4e00-\u9fff]', name)
