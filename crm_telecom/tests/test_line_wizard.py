"The guided wizards of the frequent line orders, driven as the client does"
import datetime as dt
import unittest

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction, check_access

from crm_telecom.tests.tools import (
    create_account,
    create_customer,
    create_staff,
    line_since,
    load_chinese,
    order,
    setup_reference,
    valid_id,
)


class Session:
    "A wizard session on one line, as the web client runs it"

    def __init__(self, name, line):
        self.Wizard = Pool().get(name, type='wizard')
        self.context = {'active_model': 'telecom.subscriber',
            'active_id': line.id, 'active_ids': [line.id]}
        with Transaction().set_context(self.context):
            self.id, state, _ = self.Wizard.create()
        self.state = state
        self.values = {}

    def execute(self, state, **values):
        "Run state with the values of the form shown; return its result"
        data = {}
        if self.values:
            data[self.state] = {**self.values, **values}
        with Transaction().set_context(self.context):
            result = self.Wizard.execute(self.id, data, state)
        if 'view' in result:
            self.state = result['view']['state']
            # the values of the form, not the names shown with them
            self.values = {k: v for k, v in result['view']['defaults'].items()
                if '.' not in k}
        return result

    def start(self):
        return self.execute(self.state)['view']['defaults']

    def confirm(self, **values):
        "Confirm the form: the order the wizard opens"
        Order = Pool().get('telecom.order')
        result = self.execute('confirm', **values)
        (action, _), = result['actions']
        assert action['res_model'] == 'telecom.order', action
        order_id, = action['res_id']
        return Order(order_id)


class LineWizardTestCase(unittest.TestCase):
    "Plan change, services, transfer and termination from the line"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    def line(self):
        "An active line on 神州行 18元畅聊卡 (changes immediately)"
        line = line_since(dt.date.today())
        _, brands, products = setup_reference()
        return line, products

    @with_transaction()
    def test_change_plan(self):
        "A call-centre agent changes the plan among those the customer may take"
        line, products = self.line()
        # the customer, born in 1990, is too old for this one
        products["神州行 58元套餐"].min_age = 60
        products["神州行 58元套餐"].save()
        agent = create_staff('agent', 'group_call_centre')
        with Transaction().set_user(agent.id):
            session = Session('telecom.line.change_plan', line)
            values = session.start()
            offered = {p.name for p in Pool().get('product.template').browse(
                    values['plans'])}
            self.assertEqual(offered, {"神州行 8元保号套餐", "神州行 38元家园卡"})
            self.assertEqual(values['current_plan'],
                products["神州行 18元畅聊卡"].id)
            self.assertEqual(values['current_fee'], 18)
            self.assertEqual(values['effective'], "Immediately")

            new_plan = products["神州行 38元家园卡"]
            Start = Pool().get('telecom.line.change_plan.start')
            self.assertEqual(Start(plan=new_plan, current_fee=18)
                .on_change_with_fee_difference(), 20)
            order = session.confirm(plan=new_plan.id, reason="客户来电")
        self.assertEqual(
            (order.type, order.plan, order.state, order.submitted_by),
            ('change_plan', new_plan, 'done', agent))
        self.assertEqual(line.plan, new_plan)

    @with_transaction()
    def test_order_age_rule_masked_role(self):
        "The order form keeps the age rule for roles that see IDs masked"
        Order = Pool().get('telecom.order')
        line, products = self.line()
        plan = products["神州行 58元套餐"]
        plan.min_age = 60
        plan.save()
        agent = create_staff('agent', 'group_call_centre')
        with Transaction().set_user(agent.id), check_access():
            change, = Order.create([{'type': 'change_plan',
                        'customer': line.customer.id, 'subscriber': line.id,
                        'plan': plan.id}])
            with self.assertRaises(UserError) as cm:
                Order.submit([change])
        self.assertIn("36", cm.exception.message)

    @with_transaction()
    def test_suspended_refused(self):
        "A suspended line cannot change plan: said in Chinese at the start"
        Order = Pool().get('telecom.order')
        load_chinese('crm_telecom')
        line, _ = self.line()
        Order.process([order('suspend', line, suspension_reason='loss')])
        with Transaction().set_context(language='zh_CN'), \
                self.assertRaises(UserError) as cm:
            Session('telecom.line.change_plan', line).start()
        message = cm.exception.message
        self.assertIn(line.number.number, message)
        self.assertIn('停机', message)
        self.assertIn('套餐变更', message)

    @with_transaction()
    def test_chinese(self):
        "The wizards speak Chinese: labels, buttons and the texts shown"
        load_chinese('crm_telecom')
        line, _ = self.line()
        with Transaction().set_context(language='zh_CN'):
            session = Session('telecom.line.terminate', line)
            view = session.execute(session.state)['view']
        self.assertEqual([b['string'] for b in view['buttons']],
            ["取消", "确认"])
        fields = view['fields_view']['fields']
        self.assertEqual(fields['reason']['string'], "原因")
        self.assertEqual(fields['balance']['string'], "余额")
        self.assertIn("冷冻期", view['defaults']['cooling'])

    @with_transaction()
    def test_services(self):
        "Add a service not on the line, then remove it"
        line, products = self.line()
        ringtone = products["彩铃"]
        session = Session('telecom.line.add_service', line)
        values = session.start()
        self.assertIn(ringtone.id, values['offered'])
        self.assertNotIn(products["神州行 38元家园卡"].id, values['offered'])
        order = session.confirm(service=ringtone.id)
        self.assertEqual((order.type, order.service, order.state),
            ('add_service', ringtone, 'done'))
        service, = line.services
        self.assertEqual((service.product, service.state),
            (ringtone, 'active'))

        values = Session('telecom.line.add_service', line).start()
        self.assertEqual(values['services'], [ringtone.id])
        self.assertNotIn(ringtone.id, values['offered'])

        session = Session('telecom.line.remove_service', line)
        values = session.start()
        self.assertEqual(values['line_services'], [service.id])
        order = session.confirm(service=service.id)
        self.assertEqual((order.type, order.subscriber_service, order.state),
            ('remove_service', service, 'done'))
        self.assertEqual(service.state, 'removed')

    @with_transaction()
    def test_transfer(self):
        "The new owner by resident ID, with that owner's account only"
        line, _ = self.line()
        new_code = valid_id(2)
        new_owner = create_customer(name="李四", code=new_code)
        own_account = create_account(new_owner)
        other = create_customer(name="王五", sequence=3)
        other_account = create_account(other)
        third = create_customer(name="赵六", sequence=4)
        clerk = create_staff('clerk', 'group_clerk')
        with Transaction().set_user(clerk.id):
            session = Session('telecom.line.transfer', line)
            session.start()
            typo = new_code[:-1] + ('1' if new_code[-1] != '1' else '2')
            with self.assertRaises(UserError) as cm:
                session.execute('check', identity_code=typo)
            self.assertIn(typo, cm.exception.message)

            session.execute('check', identity_code=new_code)
            self.assertEqual(session.state, 'account')
            self.assertEqual(session.values['new_owner'], new_owner.id)
            self.assertEqual(session.values['account'], own_account.id)
            self.assertFalse(session.values['new_account'])
            # back and forth: the owner found stays
            session.execute('start')
            self.assertEqual(session.values['new_owner'], new_owner.id)
            session.execute('check')
            # another customer's account sent anyway is refused
            with self.assertRaises(UserError) as cm:
                session.confirm(account=other_account.id)
            self.assertIn(other_account.rec_name, cm.exception.message)

            order = session.confirm()
            self.assertEqual(
                (order.type, order.new_owner, order.account, order.state),
                ('transfer', new_owner, own_account, 'done'))
            self.assertEqual((line.customer, line.account),
                (new_owner, own_account))

            # an owner without an account gets a new one of their own
            session = Session('telecom.line.transfer', line)
            session.start()
            session.execute('check', new_owner=third.id, identity_code=None)
            self.assertEqual((session.values['account'],
                    session.values['new_account']), (None, True))
            session.confirm()
        self.assertEqual(line.customer, third)
        self.assertEqual(line.account.payer, third)
        self.assertNotIn(line.account, [own_account, other_account])

    @with_transaction()
    def test_terminate(self):
        "The confirmation shows the line and its account; the number cools"
        line, products = self.line()
        clerk = create_staff('clerk', 'group_clerk')
        with Transaction().set_user(clerk.id):
            session = Session('telecom.line.terminate', line)
            values = session.start()
            self.assertEqual(values['account'], line.account.id)
            self.assertEqual(values['balance'], line.account.balance)
            self.assertIn(line.number.number, values['cooling'])
            order = session.confirm(reason="出国")
        self.assertEqual((order.type, order.reason, order.state),
            ('terminate', "出国", 'done'))
        self.assertEqual(line.state, 'terminated')
        self.assertEqual(line.number.state, 'cooling')

    @with_transaction()
    def test_call_centre_refused(self):
        "Call-centre agents may not transfer or terminate a line"
        line, _ = self.line()
        agent = create_staff('agent', 'group_call_centre')
        with Transaction().set_user(agent.id):
            for name in ['telecom.line.transfer', 'telecom.line.terminate']:
                with self.subTest(wizard=name), \
                        self.assertRaises(AccessError):
                    Session(name, line)
