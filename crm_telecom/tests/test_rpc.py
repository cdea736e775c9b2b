"""Administrator-defined fields over JSON-RPC, as the web client uses them.

An administrator adds fields to customers in the client; a clerk then sees
them in the form definition, fills them in, searches and exports by them,
all through the same RPC calls sao makes."""
import json

from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase, activate_module

from crm_telecom.tests.tools import PASSWORD, RPCMixin, valid_id


class ExtraFieldRPCTestCase(RPCMixin, RouteTestCase):
    "Extra fields through RPC"
    module = 'crm_telecom'

    @classmethod
    def setUpClass(cls):
        activate_module(cls.module)
        super().setUpClass()

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        admin = User(1)
        admin.password = PASSWORD
        admin.save()
        User.create([{'login': 'clerk', 'name': "营业员",
                    'password': PASSWORD,
                    'groups': [('add', [ModelData.get_id(
                                    'crm_telecom', 'group_clerk')])]}])

    def test_extra_fields(self):
        client = self.client()
        admin = self.login(client, 'admin')
        self.call(client, admin, 'model.telecom.extra_field.create', [
                {'name': 'occupation', 'string': "Occupation",
                    'type_': 'selection', 'target': 'party.party',
                    'selection': 'teacher:Teacher\nengineer:Engineer'},
                {'name': 'household', 'string': "Household Size",
                    'type_': 'integer', 'target': 'party.party'},
                {'name': 'student', 'string': "Student",
                    'type_': 'boolean', 'target': 'party.party'},
                {'name': 'vip_since', 'string': "VIP Since",
                    'type_': 'date', 'target': 'party.party'},
                {'name': 'income', 'string': "Monthly Income",
                    'type_': 'numeric', 'digits': 2,
                    'target': 'party.party'},
                {'name': 'nickname', 'string': "Nickname",
                    'type_': 'char', 'target': 'party.party'},
                {'name': 'device', 'string': "Device",
                    'type_': 'char', 'target': 'telecom.subscriber'},
                ])

        clerk = self.login(client, 'clerk')
        # the form shows the Dict widget backed by the schema
        view = self.call(client, clerk, 'model.party.party.fields_view_get',
            None, 'form')
        self.assertEqual(view['fields']['extra']['schema_model'],
            'telecom.extra_field')
        keys = self.call(client, clerk,
            'model.telecom.extra_field.search_get_keys',
            [('target', '=', 'party.party')], None)
        self.assertEqual({k['name'] for k in keys},
            {'occupation', 'household', 'student', 'vip_since', 'income',
                'nickname'})

        party_id, = self.call(client, clerk, 'model.party.party.create', [{
                    'name': "张老师",
                    'identifiers': [['create', [
                                {'type': 'cn_ric', 'code': valid_id(1)}]]],
                    'extra': {
                        'occupation': 'teacher', 'household': 3,
                        'student': False, 'nickname': "老张",
                        'vip_since': {'__class__': 'date', 'year': 2020,
                            'month': 1, 'day': 2},
                        'income': {'__class__': 'Decimal',
                            'decimal': '8000.50'},
                        }}])
        other_id, = self.call(client, clerk, 'model.party.party.create', [{
                    'name': "李工", 'extra': {'occupation': 'engineer',
                        'household': 5}}])
        # the form gets every field, those not filled in empty
        row, = self.call(client, clerk, 'model.party.party.read',
            [other_id], ['extra'])
        self.assertEqual(row['extra'], {'occupation': 'engineer',
                'household': 5, 'student': False, 'vip_since': None,
                'income': None, 'nickname': ''})

        row, = self.call(client, clerk, 'model.party.party.read',
            [party_id], ['extra'])
        self.assertEqual(row['extra']['household'], 3)
        self.assertEqual(row['extra']['nickname'], "老张")
        found = self.call(client, clerk, 'model.party.party.search',
            [('extra.occupation', '=', 'teacher')], 0, None, None)
        self.assertEqual(found, [party_id])
        found = self.call(client, clerk, 'model.party.party.search',
            [('extra.household', '>', 4)], 0, None, None)
        self.assertEqual(len(found), 1)
        self.assertNotEqual(found, [party_id])

        rows = self.call(client, clerk, 'model.party.party.export_data',
            [party_id], ['name', 'extra'], True)
        self.assertIn('teacher', json.dumps(rows))

        # a value of the wrong type is refused with a clear error
        error = self.call_error(client, clerk, 'model.party.party.write',
            [party_id], {'extra': {'household': 'many'}})
        self.assertIn('Household Size', json.dumps(error))
        self.assertIn('many', json.dumps(error))
        row, = self.call(client, clerk, 'model.party.party.read',
            [party_id], ['extra'])
        self.assertEqual(row['extra']['household'], 3)
