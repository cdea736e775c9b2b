"The Chinese screens of channels and dealers: the operator's words, lists that fit"
import unittest

from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.words import (
    ModuleWordsMixin,
    forbidden_words,
    view_words,
)


class WordsTestCase(ModuleWordsMixin, unittest.TestCase):
    "Words and list widths of crm_channel"
    module = 'crm_channel'
    depends = ['crm_billing', 'commission']

    @with_transaction()
    def test_dealer_words(self):
        "The dealer form speaks of 代理商, 佣金方案 and 保证金, in Chinese only"
        with Transaction().set_context(language='zh_CN'):
            words = view_words(
                'commission.agent', 'crm_channel.dealer_view_form')
        for name, string in [
                ('party', "代理商单位"),
                ('plan', "佣金方案"),
                ('deposit', "保证金"),
                ('dealer_state', "代理商状态"),
                ]:
            self.assertIn(('commission.agent.' + name, string), words)
        self.assertEqual(forbidden_words(words), [])
