"""A finished bill run opened in the web client stays as it is.

The calls sao makes to open the form, as a billing operator: the form's
definition, the read of its fields, the on_change_with of the fields that
have one (which sao sends when a field they depend on changes and whose
results must then equal what was read), and the buttons' states evaluated
on the values read."""
import datetime as dt
import json

from lxml import etree

from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import RouteTestCase, activate_module

from crm_telecom.tests.tools import (
    PASSWORD,
    RPCMixin,
    create_account,
    create_customer,
    create_staff,
)

MODEL = 'model.telecom.bill.run.'


class BillRunFormTestCase(RPCMixin, RouteTestCase):
    "The bill run form as the web client opens it"
    module = 'crm_billing'

    @classmethod
    def setUpClass(cls):
        activate_module(cls.module)
        super().setUpClass()

    @classmethod
    def setUpDatabase(cls):
        BillRun = Pool().get('telecom.bill.run')
        create_account(create_customer(), payment_type='postpaid')
        run, = BillRun.create([{'period_start': dt.date(2026, 10, 1)}])
        BillRun.process([run], commit=False)
        create_staff('billing', 'group_billing', password=PASSWORD)

    def open_form(self):
        "The form definition and the finished run read with its fields"
        client = self.client()
        billing = self.login(client, 'billing')
        view = self.call(client, billing, MODEL + 'fields_view_get',
            None, 'form')
        run_id, = self.call(client, billing, MODEL + 'search',
            [('state', '=', 'done')], 0, None, None)
        names = sorted(view['fields'])
        row, = self.call(client, billing, MODEL + 'read', [run_id], names)
        return client, billing, view, row

    def test_read_back(self):
        "The form reads the run as it is, every state field in the view"
        client, billing, view, row = self.open_form()
        fields = view['fields']
        self.assertEqual(row['state'], 'done')
        self.assertIn(row['state'], dict(fields['state']['selection']))
        self.assertEqual(row['accounts_done'], 1)
        self.assertEqual(row['progress'], 1.0)
        # what the states and buttons of the view are evaluated on is read
        arch = etree.fromstring(view['arch'])
        for node in arch.iter('field', 'button'):
            for name in json.loads(node.get('states', '{}')).get(
                    'depends', []):
                self.assertIn(name, fields, node.get('name'))
        for field in fields.values():
            for name in field.get('depends') or []:
                self.assertIn(name, fields, field['name'])

    def test_on_change_with_unchanged(self):
        "The computed fields come back equal to what was read"
        client, billing, view, row = self.open_form()
        for name, field in view['fields'].items():
            if not field.get('on_change_with'):
                continue
            values = {n: row[n] for n in field['on_change_with']
                if n in row}
            values['id'] = row['id']
            changes = self.call(client, billing, MODEL + 'on_change_with',
                values, [name])
            self.assertEqual(changes, {name: row[name]}, name)

    def test_start_invisible(self):
        "A finished run offers neither Start nor Resume"
        client, billing, view, row = self.open_form()
        arch = etree.fromstring(view['arch'])
        buttons = {b.get('name'): b for b in arch.iter('button')}
        self.assertEqual(set(buttons), {'start', 'resume'})
        for name, button in buttons.items():
            states = PYSONDecoder(row).decode(button.get('states'))
            self.assertTrue(states.get('invisible'), name)
        # while a draft run offers Start
        states = PYSONDecoder({**row, 'state': 'draft'}).decode(
            buttons['start'].get('states'))
        self.assertFalse(states.get('invisible'))


del RouteTestCase
