"The Chinese screens of arrears and dunning: the operator's words, lists that fit"
import unittest

from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.words import (
    ModuleWordsMixin,
    sum_headings,
)


class WordsTestCase(ModuleWordsMixin, unittest.TestCase):
    "Words and list widths of crm_dunning"
    module = 'crm_dunning'
    depends = ['crm_billing']

    @with_transaction()
    def test_arrears_totals(self):
        "The arrears list totals the arrears under a 合计 heading"
        with Transaction().set_context(language='zh_CN'):
            headings = sum_headings('telecom.account', 'crm_dunning.arrears_view_list')
        self.assertEqual(headings['arrears'], "欠费合计")
