"The Chinese screens of the provisioning outbox: the operator's words, lists that fit"
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
    view_words,
)

MODULES = CHINESE + ['crm_provisioning']


class WordsTestCase(unittest.TestCase):
    "Words and list widths of crm_provisioning"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_provisioning')

    @with_transaction()
    def test_views_words(self):
        "No view shows English leftovers or core terms, nor the 360° form"
        load_chinese(*MODULES, overrides=True)
        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(module_forbidden_words('crm_provisioning'), [])
            self.assertEqual(forbidden_words(view_words('party.party',
                        'crm_telecom.customer_view_form')), [])

    @with_transaction()
    def test_lists(self):
        "Every list fits 1366 px, shows its date-times, heads its totals"
        load_chinese(*MODULES, overrides=True)
        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(list_problems('crm_provisioning'), [])

    @with_transaction()
    def test_request_buttons(self):
        "Both buttons of a request show in the list with room for the label"
        load_chinese(*MODULES, overrides=True)
        with Transaction().set_context(language='zh_CN'):
            buttons = {n: node.get('width') for n, node, _ in list_columns(
                    'telecom.provisioning.request',
                    'crm_provisioning.provisioning_request_view_list')
                if node.tag == 'button'}
        self.assertEqual(set(buttons), {'send_now', 'retry'})
        self.assertTrue(all(buttons.values()))
