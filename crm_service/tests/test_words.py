"The Chinese screens of customer service: the operator's words, lists that fit"
import unittest

from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.words import (
    ModuleWordsMixin,
    list_columns,
    sum_headings,
    view_words,
)


class WordsTestCase(ModuleWordsMixin, unittest.TestCase):
    "Words and list widths of crm_service"
    module = 'crm_service'
    depends = ['crm_billing']

    @with_transaction()
    def test_request_words(self):
        "The request form speaks of 首问责任人, 转派与协查 and 处理时限"
        with Transaction().set_context(language='zh_CN'):
            words = view_words(
                'telecom.service_request', 'crm_service.request_view_form')
        for name, string in [
                ('owner', "首问责任人"),
                ('handlings', "转派与协查"),
                ('deadline', "处理时限"),
                ]:
            self.assertIn(
                ('telecom.service_request.' + name, string), words)

    @with_transaction()
    def test_request_list(self):
        "The request list keeps its key columns and shows when it was taken"
        with Transaction().set_context(language='zh_CN'):
            columns = {n: node for n, node, _ in list_columns(
                    'telecom.service_request', 'crm_service.request_view_list')}
        for name in ['code', 'type', 'subject', 'customer', 'owner',
                'deadline', 'state']:
            self.assertIn(name, columns)
        self.assertIn(columns['deadline'].get('widget'), {'date', 'time'})

    @with_transaction()
    def test_compensation_totals(self):
        "The compensation list totals the credits under a 合计 heading"
        with Transaction().set_context(language='zh_CN'):
            headings = sum_headings('telecom.service_request.compensation',
                'crm_service.compensation_view_list')
        self.assertEqual(headings, {'amount': "补偿金额合计"})
