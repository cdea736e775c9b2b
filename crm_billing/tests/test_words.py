"The Chinese screens of bills, payments, usage: the operator's words, lists that fit"
import unittest

from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.words import (
    ModuleWordsMixin,
    list_columns,
    sum_headings,
)


class WordsTestCase(ModuleWordsMixin, unittest.TestCase):
    "Words and list widths of crm_billing"
    module = 'crm_billing'
    depends = []

    @with_transaction()
    def test_bills_tab(self):
        "The bills of the 360° form show amount and state in full, totalled"
        with Transaction().set_context(language='zh_CN'):
            columns = {n: node.get('width') for n, node, _ in list_columns(
                    'telecom.bill', 'crm_billing.bill_view_list')}
            headings = sum_headings('telecom.bill', 'crm_billing.bill_view_list')
        self.assertTrue(columns['amount'])
        self.assertTrue(columns['state'])
        self.assertEqual(headings, {'amount': "金额合计"})
