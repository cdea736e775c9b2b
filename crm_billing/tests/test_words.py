"The Chinese screens of bills, payments, usage: the operator's words, lists that fit"
import unittest

from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.test_words import CHINESE
from crm_telecom.tests.tools import load_chinese
from crm_telecom.tests.words import (
    forbidden_words,
    list_columns,
    list_problems,
    module_forbidden_words,
    sum_headings,
    view_words,
)

MODULES = CHINESE + ['crm_billing']


class WordsTestCase(unittest.TestCase):
    "Words and list widths of crm_billing"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_billing')

    @with_transaction()
    def test_views_words(self):
        "No view shows English leftovers or core terms, nor the 360° form"
        load_chinese(*MODULES, overrides=True)
        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(module_forbidden_words('crm_billing'), [])
            self.assertEqual(forbidden_words(view_words('party.party',
                        'crm_telecom.customer_view_form')), [])

    @with_transaction()
    def test_lists(self):
        "Every list fits 1366 px, shows its date-times, heads its totals"
        load_chinese(*MODULES, overrides=True)
        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(list_problems('crm_billing'), [])

    @with_transaction()
    def test_bills_tab(self):
        "The bills of the 360° form show amount and state in full, totalled"
        load_chinese(*MODULES, overrides=True)
        with Transaction().set_context(language='zh_CN'):
            columns = {n: node.get('width') for n, node, _ in list_columns(
                    'telecom.bill', 'crm_billing.bill_view_list')}
            headings = sum_headings('telecom.bill', 'crm_billing.bill_view_list')
        self.assertTrue(columns['amount'])
        self.assertTrue(columns['state'])
        self.assertEqual(headings, {'amount': "金额合计"})
