"The Chinese screens of the provisioning outbox: the operator's words, lists that fit"
import unittest

from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.words import (
    ModuleWordsMixin,
    list_columns,
)


class WordsTestCase(ModuleWordsMixin, unittest.TestCase):
    "Words and list widths of crm_provisioning"
    module = 'crm_provisioning'
    depends = []

    @with_transaction()
    def test_request_buttons(self):
        "Both buttons of a request show in the list with room for the label"
        with Transaction().set_context(language='zh_CN'):
            buttons = {n: node.get('width') for n, node, _ in list_columns(
                    'telecom.provisioning.request',
                    'crm_provisioning.provisioning_request_view_list')
                if node.tag == 'button'}
        self.assertEqual(set(buttons), {'send_now', 'retry'})
        self.assertTrue(all(buttons.values()))
