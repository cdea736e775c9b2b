"The Chinese screens of group customers: the operator's words, lists that fit"
import unittest

from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.words import ModuleWordsMixin, view_words


class WordsTestCase(ModuleWordsMixin, unittest.TestCase):
    "Words and list widths of crm_group_customer"
    module = 'crm_group_customer'
    depends = ['crm_billing', 'sale_opportunity']

    @with_transaction()
    def test_group_words(self):
        "The group 360° form speaks of 统一社会信用代码, 客户经理 and 集团成员"
        with Transaction().set_context(language='zh_CN'):
            words = view_words(
                'party.party', 'crm_group_customer.group_view_form')
        for name, string in [
                ('uscc', "统一社会信用代码"),
                ('account_manager', "客户经理"),
                ('value_level', "价值等级"),
                ]:
            self.assertIn(('party.party.' + name, string), words)
