"The Chinese screens of arrears and dunning: the operator's words, lists that fit"
import unittest

from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.test_words import CHINESE
from crm_telecom.tests.tools import load_chinese
from crm_telecom.tests.words import (
    forbidden_words,
    list_problems,
    module_forbidden_words,
    sum_headings,
    view_words,
)

MODULES = CHINESE + ['crm_billing', 'crm_dunning']


class WordsTestCase(unittest.TestCase):
    "Words and list widths of crm_dunning"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_dunning')

    @with_transaction()
    def test_views_words(self):
        "No view shows English leftovers or core terms, nor the 360° form"
        load_chinese(*MODULES, overrides=True)
        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(module_forbidden_words('crm_dunning'), [])
            self.assertEqual(forbidden_words(view_words('party.party',
                        'crm_telecom.customer_view_form')), [])

    @with_transaction()
    def test_lists(self):
        "Every list fits 1366 px, shows its date-times, heads its totals"
        load_chinese(*MODULES, overrides=True)
        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(list_problems('crm_dunning'), [])

    @with_transaction()
    def test_arrears_totals(self):
        "The arrears list totals the arrears under a 合计 heading"
        load_chinese(*MODULES, overrides=True)
        with Transaction().set_context(language='zh_CN'):
            headings = sum_headings('telecom.account', 'crm_dunning.arrears_view_list')
        self.assertEqual(headings['arrears'], "欠费合计")
