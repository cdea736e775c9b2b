"Lists open on the records staff look for"
import unittest

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction

from crm_telecom.tests.tools import (
    activation,
    create_customer,
    create_numbers,
    first_tab_domain,
    order,
    setup_reference,
)


class ListsTestCase(unittest.TestCase):
    "The tab a list opens on"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    @with_transaction()
    def test_orders_open_on_all(self):
        "Orders are done on Submit: a Draft tab first would look empty"
        self.assertFalse(first_tab_domain('crm_telecom', 'act_order_form'))

    @with_transaction()
    def test_orders_show_their_number(self):
        "Every order type shows its number in the list, and finds by it"
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        number, = create_numbers('13800138000')
        activate = activation(create_customer(), number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        Order.submit([activate])
        suspend = order('suspend', activate.subscriber,
            suspension_reason='loss')
        self.assertEqual([o.line_number for o in [activate, suspend]],
            ['13800138000', '13800138000'])
        self.assertEqual(set(Order.search(
                    [('line_number', '=', '13800138000')])),
            {activate, suspend})
        view = Order.fields_view_get(view_type='tree')
        self.assertIn('line_number', view['fields'])

    @with_transaction()
    def test_customer_codes_one_numbering(self):
        "Customers created in the client are numbered like the demo's"
        customer = create_customer()
        other = create_customer(name="李四", sequence=2)
        for party in [customer, other]:
            self.assertRegex(party.code, r'^C\d{9}$')
        self.assertEqual(int(other.code[1:]), int(customer.code[1:]) + 1)

    @with_transaction()
    def test_history_columns_named_apart(self):
        "The line history's day and time columns have headers of their own"
        from lxml import etree
        pool = Pool()
        Event = pool.get('telecom.subscriber.event')
        ModelData = pool.get('ir.model.data')
        view = Event.fields_view_get(ModelData.get_id(
                'crm_telecom', 'subscriber_event_view_list'), 'tree')
        arch = etree.fromstring(view['arch'])
        strings = [f.get('string') for f in arch.xpath('//field[@name="date"]')]
        self.assertEqual(len(strings), 2)
        self.assertTrue(all(strings))
        self.assertEqual(len(set(strings)), 2)
