"Lists open on the records staff look for"
import unittest

from trytond.tests.test_tryton import activate_module, with_transaction

from crm_telecom.tests.tools import first_tab_domain


class ListsTestCase(unittest.TestCase):
    "The tab a list opens on"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_billing')

    @with_transaction()
    def test_payments_and_imports_open_on_all(self):
        "Payments are posted and files imported at once: not on Draft"
        for action in ['act_payment_form', 'act_usage_import_form']:
            with self.subTest(action=action):
                self.assertFalse(first_tab_domain('crm_billing', action))
