"The list exports: filter wizard, title, batches and masked identities"
import datetime as dt
import unittest

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.tools import (
    activation,
    create_customer,
    create_numbers,
    setup_reference,
    valid_id,
    xlsx_report,
)


class SubscriberExportTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    def line(self, number, customer, plan, activated):
        Order = Pool().get('telecom.order')
        regions, brands, products = setup_reference()
        number, = create_numbers(number)
        order = activation(customer, number, brands['SZX'], products[plan])
        Order.process([order])
        subscriber = order.subscriber
        subscriber.activation_date = activated
        subscriber.save()
        return subscriber

    def sheet(self, data, records=()):
        "Title, header and rows (as dicts) of the subscriber list"
        _, rows = xlsx_report('telecom.subscriber.list.xlsx',
            [r.id for r in records], data)
        return rows[0][0], rows[2], [dict(zip(rows[2], r)) for r in rows[3:]]

    @with_transaction()
    def test_wizard_filters_to_report(self):
        "The form's filters become the data, the domain and the title"
        pool = Pool()
        Wizard = pool.get('telecom.subscriber.list', type='wizard')
        regions, brands, products = setup_reference()
        old = self.line('13800138001', create_customer(sequence=1),
            "神州行 18元畅聊卡", dt.date(2020, 3, 1))
        new = self.line('13800138002', create_customer(sequence=2),
            "神州行 58元套餐", dt.date(2025, 6, 1))

        session_id, _, _ = Wizard.create()
        result = Wizard.execute(session_id, {'start': {
                    'region': None, 'brand': brands['SZX'].id, 'plan': None,
                    'state': 'active', 'activated_from': dt.date(2024, 1, 1),
                    'activated_to': None}}, 'export')
        (_, data), = result['actions']
        self.assertEqual(data, {'region': None, 'brand': brands['SZX'].id,
                'plan': None, 'state': 'active',
                'activated_from': '2024-01-01', 'activated_to': None})

        title, header, rows = self.sheet(data)
        self.assertIn(brands['SZX'].rec_name, title)
        self.assertIn('State: Active', title)
        self.assertIn('Activated From: 2024-01-01', title)
        self.assertNotIn('Plan', title)
        self.assertEqual([r['Number'] for r in rows], [new.rec_name])
        self.assertEqual(rows[0]['State'], 'Active')
        self.assertEqual(rows[0]['Number Grade'], 'Ordinary')

        # printed from the list: the records chosen, in their order
        title, header, rows = self.sheet({}, records=[new, old])
        self.assertEqual([r['Number'] for r in rows],
            [new.rec_name, old.rec_name])

    @with_transaction()
    def test_identity_stays_masked(self):
        "A call-centre agent's export shows resident IDs masked"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        code = valid_id(7)
        self.line('13800138007', create_customer(code=code),
            "神州行 18元畅聊卡", dt.date(2024, 1, 1))
        agent, clerk = User.create([
                {'login': 'agent_export', 'groups': [('add', [
                                ModelData.get_id('crm_telecom',
                                    'group_call_centre')])]},
                {'login': 'clerk_export', 'groups': [('add', [
                                ModelData.get_id('crm_telecom',
                                    'group_clerk')])]},
                ])
        with Transaction().set_user(agent.id):
            _, header, rows = self.sheet({})
        identity = header[4]
        shown = rows[0][identity]
        self.assertNotEqual(shown, code)
        self.assertIn('*', shown)
        self.assertEqual((shown[:4], shown[-4:]), (code[:4], code[-4:]))
        with Transaction().set_user(clerk.id):
            _, header, rows = self.sheet({})
        self.assertEqual(rows[0][identity], code)


if __name__ == '__main__':
    unittest.main()
