"Refusals staff meet are in Chinese and name the field and value"
import unittest

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.tools import (
    activation,
    create_customer,
    create_numbers,
    create_staff,
    load_chinese,
    setup_reference,
)


def staff(login, group):
    "A staff user of a role, working in Chinese"
    Lang = Pool().get('ir.lang')
    chinese, = Lang.search([('code', '=', 'zh_CN')])
    return create_staff(login, group, language=chinese.id)


def as_staff(user):
    transaction = Transaction()
    return transaction.set_user(user.id), transaction.set_context(
        _check_access=True, language='zh_CN')


class ChineseErrorsTestCase(unittest.TestCase):
    "Errors in the operator's language"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    @with_transaction()
    def test_number_not_available(self):
        "A taken number is refused with its number and state, in Chinese"
        # the core's Chinese first: the suite overrides some of it
        load_chinese('ir', 'res', 'company', 'crm_telecom', overrides=True)
        regions, brands, products = setup_reference()
        plan = products["神州行 18元畅聊卡"]
        number, = create_numbers('13800138000')
        activation(create_customer(), number, brands['SZX'], plan)
        other = create_customer(name="李四", sequence=2)
        clerk = staff('clerk', 'group_clerk')
        user, context = as_staff(clerk)
        with user, context, self.assertRaises(UserError) as cm:
            activation(other, number, brands['SZX'], plan)
        message = cm.exception.message
        self.assertIn('13800138000', message)
        self.assertIn('当前不可选用', message)
        self.assertIn('预占', message)
        self.assertNotIn('domain', message)
        self.assertNotIn('域', message)

    @with_transaction()
    def test_access_refused_in_chinese(self):
        "An access refusal names the roles in Chinese, not 'Within groups'"
        # the core's Chinese first: the suite overrides some of it
        load_chinese('ir', 'res', 'company', 'crm_telecom', overrides=True)
        Configuration = Pool().get('telecom.configuration')
        agent = staff('agent', 'group_call_centre')
        user, context = as_staff(agent)
        with user, context, self.assertRaises(AccessError) as cm:
            Configuration.write([Configuration(1)],
                {'max_lines_per_identity': 9})
        text = '%s %s' % (cm.exception.message, cm.exception.description)
        self.assertNotIn('Within groups', text)
        self.assertNotIn('not allowed', text)
        self.assertIn('需要以下角色之一', text)
        self.assertIn('您的角色', text)
