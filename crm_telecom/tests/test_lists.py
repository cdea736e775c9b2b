"Lists open on the records staff look for"
import unittest

from trytond.tests.test_tryton import activate_module, with_transaction

from crm_telecom.tests.tools import first_tab_domain


class ListsTestCase(unittest.TestCase):
    "The tab a list opens on"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    @with_transaction()
    def test_orders_open_on_all(self):
        "Orders are done on Submit: a Draft tab first would look empty"
        self.assertFalse(first_tab_domain('crm_telecom', 'act_order_form'))
