"""The business-hall activation wizard (受理), driven as the web client
drives it: one execute per button, with the values of the form shown."""
import datetime as dt
import io
import unittest
import zipfile
from decimal import Decimal
from unittest.mock import patch

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_telecom import iccid
from crm_telecom.money import month_proration, prorate
from crm_telecom.tests.tools import (
    activation,
    create_account,
    create_customer,
    create_numbers,
    create_staff,
    load_chinese,
    setup_company,
    setup_reference,
    valid_id,
)

ICCID = iccid.make(12345678)
PLAN = "神州行 18元畅聊卡"


class Entry:
    "One session of the wizard, as the client runs it"

    def __init__(self, user, **context):
        self.Wizard = Pool().get('telecom.order.entry', type='wizard')
        self.user = user
        self.context = context
        with self.as_user():
            self.session, start, _ = self.Wizard.create()
        self.execute(start)

    def as_user(self):
        transaction = Transaction()
        # the user the client logged in
        return transaction.set_user(self.user.id)

    def execute(self, state, data=None):
        with self.as_user(), Transaction().set_context(self.context):
            self.result = self.Wizard.execute(self.session, data or {}, state)
        return self.result

    @property
    def state(self):
        return self.result['view']['state'] if 'view' in self.result else None

    @property
    def values(self):
        view = self.result['view']
        values = {**view['defaults'], **view['values']}
        return {k: v for k, v in values.items() if '.' not in k}

    def press(self, button, **changes):
        "Press button on the form shown, after typing changes into it"
        return self.execute(button, {self.state: {**self.values, **changes}})


class OrderEntryTestCase(unittest.TestCase):
    "The activation wizard"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    def setup(self):
        "Tariffs, numbers (two of them premium) and a clerk"
        pool = Pool()
        Number = pool.get('telecom.number')
        regions, brands, products = setup_reference()
        numbers = create_numbers('13800138000', '13912348888',
            '13800008888', '13800138001')
        Number.write([numbers[1]], {'grade': 'premium',
                'price': Decimal('888')})
        Number.write([numbers[2]], {'grade': 'premium',
                'price': Decimal('588')})
        clerk = create_staff('clerk', 'group_clerk')
        return brands, products, numbers, clerk

    def to_number(self, entry, number):
        "Choose number on the number step"
        self.assertEqual(entry.state, 'choose_number')
        entry.press('reserve', number=number.id)
        self.assertEqual(entry.state, 'choose_plan')

    def to_fees(self, entry, brand, plan, services=()):
        entry.press('planned', brand=brand.id, plan=plan.id,
            services=[s.id for s in services])
        self.assertEqual(entry.state, 'sim')
        entry.press('scanned', iccid=ICCID)
        self.assertEqual(entry.state, 'fees')

    @with_transaction()
    def test_new_customer_to_activation(self):
        "A resident ID typed once, a new customer, a submitted activation"
        pool = Pool()
        Order = pool.get('telecom.order')
        Party = pool.get('party.party')
        Identify = pool.get('telecom.order.entry.identify')
        brands, products, numbers, clerk = self.setup()
        code = valid_id(7)

        # the ID typed once finds nobody: a new customer is registered
        form = Identify(identity_code=code[:6] + ' ' + code[6:])
        form.on_change_identity_code()
        self.assertEqual(form.identity_code, code)
        self.assertIsNone(form.customer)

        entry = Entry(clerk)
        self.assertEqual(entry.state, 'identify')
        entry.press('identified', identity_code=code, name="王五",
            phone='13900001111', street="天河路 1 号", city="广州")
        customer, = Party.search([('identity_code', '=', code)])
        self.assertEqual(customer.name, "王五")
        self.assertEqual(customer.mobile, '13900001111')
        self.assertEqual(customer.company, setup_company())
        self.to_number(entry, numbers[0])
        self.to_fees(entry, brands['SZX'], products[PLAN],
            [products["彩铃"]])
        # a new customer has no account: one is opened for them
        self.assertTrue(entry.values['new_account'])
        self.assertIsNone(entry.values['account'])
        entry.press('confirm')

        order, = Order.search([('customer', '=', customer.id)])
        self.assertEqual(order.state, 'done')
        self.assertEqual(order.submitted_employee, clerk.employee)
        self.assertEqual(order.iccid, ICCID)
        self.assertEqual(order.account.payer, customer)
        self.assertEqual(order.subscriber.number, numbers[0])
        self.assertEqual([s.product for s in order.subscriber.services],
            [products["彩铃"]])
        # the wizard ends on the order's form
        action, = entry.result['actions']
        self.assertEqual(action[0]['res_model'], 'telecom.order')
        self.assertEqual(action[0]['res_id'], [order.id])
        # the client then ends the session: the order stays as it is
        with entry.as_user():
            entry.Wizard.delete(entry.session)
        self.assertEqual(Order(order.id).state, 'done')

        # the same ID typed again finds the customer
        form = Identify(identity_code=code)
        form.on_change_identity_code()
        self.assertEqual(form.customer, customer)
        self.assertEqual(form.name, "王五")

    @with_transaction()
    def test_from_customer(self):
        "Started on a customer, the wizard goes straight to the number"
        brands, products, numbers, clerk = self.setup()
        customer = create_customer()
        account = create_account(customer)
        entry = Entry(clerk, active_model='party.party',
            active_id=customer.id, active_ids=[customer.id])
        self.assertEqual(entry.state, 'choose_number')
        self.assertEqual(entry.values['customer'], customer.id)
        self.to_number(entry, numbers[0])
        self.to_fees(entry, brands['SZX'], products[PLAN])
        # the customer's active account is proposed
        self.assertEqual(entry.values['account'], account.id)
        self.assertFalse(entry.values['new_account'])
        entry.press('confirm')
        order = Pool().get('telecom.order')(
            entry.result['actions'][0][0]['res_id'][0])
        self.assertEqual(order.account, account)
        self.assertEqual(order.state, 'done')

    @with_transaction()
    def test_clerks_only(self):
        "The wizard is the clerks' (and administrators'), not every role's"
        brands, products, numbers, clerk = self.setup()
        agent = create_staff('agent', 'group_call_centre')
        with self.assertRaises(AccessError):
            Entry(agent)
        self.assertEqual(Entry(clerk).state, 'identify')

    @with_transaction()
    def test_invalid_resident_id(self):
        "An invalid resident ID is refused in Chinese, naming it"
        load_chinese('crm_telecom')
        Identify = Pool().get('telecom.order.entry.identify')
        code = '110105194912310021'
        with Transaction().set_context(language='zh_CN'):
            form = Identify(identity_code=code)
            with self.assertRaises(UserError) as cm:
                form.on_change_identity_code()
        self.assertIn(code, cm.exception.message)
        self.assertIn('校验', cm.exception.message)

        brands, products, numbers, clerk = self.setup()
        entry = Entry(clerk, language='zh_CN')
        with self.assertRaises(UserError) as cm:
            entry.press('identified', identity_code=code, name="王五")
        self.assertIn(code, cm.exception.message)

    @with_transaction()
    def test_order_form_iccid(self):
        "An activation typed in the order form is refused a bad ICCID too"
        Order = Pool().get('telecom.order')
        _, brands, products = setup_reference()
        number, = create_numbers('13800138000')
        draft = activation(create_customer(), number, brands['SZX'],
            products["神州行 18元畅聊卡"], iccid='89860000000000000002')
        with self.assertRaises(UserError) as cm:
            Order.submit([draft])
        self.assertIn('89860000000000000002', cm.exception.message)

    @with_transaction()
    def test_invalid_iccid(self):
        "An invalid ICCID is refused in Chinese, naming the field and value"
        load_chinese('crm_telecom')
        Sim = Pool().get('telecom.order.entry.sim')
        self.assertTrue(iccid.is_valid(ICCID))
        bad_check = ICCID[:-1] + str((int(ICCID[-1]) + 1) % 10)
        for value, words in [
                ('8986123', '19 或 20 位'),
                ('89011234567890123456', '8986'),
                (bad_check, '校验位'),
                ]:
            with self.subTest(value=value), \
                    Transaction().set_context(language='zh_CN'):
                form = Sim(iccid=value)
                with self.assertRaises(UserError) as cm:
                    form.on_change_iccid()
                self.assertIn(value, cm.exception.message)
                self.assertIn('ICCID', cm.exception.message)
                self.assertIn(words, cm.exception.message)
        # 19 digits carry no check digit; spaces of a typed number go
        self.assertTrue(iccid.is_valid(ICCID[:19]))
        form = Sim(iccid=ICCID[:10] + ' ' + ICCID[10:])
        form.on_change_iccid()
        self.assertEqual(form.iccid, ICCID)

        # the step refuses it too, whatever the client sent
        brands, products, numbers, clerk = self.setup()
        customer = create_customer()
        entry = Entry(clerk, active_model='party.party',
            active_id=customer.id, active_ids=[customer.id])
        self.to_number(entry, numbers[0])
        entry.press('planned', brand=brands['SZX'].id,
            plan=products[PLAN].id, services=[])
        with self.assertRaises(UserError) as cm:
            entry.press('scanned', iccid=bad_check)
        self.assertIn(bad_check, cm.exception.message)

    @with_transaction()
    def test_blacklisted_refused_first(self):
        "A blacklisted customer is refused before a number is taken"
        pool = Pool()
        Number = pool.get('telecom.number')
        brands, products, numbers, clerk = self.setup()
        customer = create_customer(blacklisted=True,
            blacklist_reason="欠费逃逸")
        with self.assertRaises(UserError) as cm:
            Entry(clerk, active_model='party.party', active_id=customer.id,
                active_ids=[customer.id])
        self.assertIn("欠费逃逸", cm.exception.message)
        entry = Entry(clerk)
        with self.assertRaises(UserError) as cm:
            entry.press('identified',
                identity_code=customer.cn_identifier.code)
        self.assertIn(customer.name, cm.exception.message)
        self.assertEqual(Number.search([('state', '!=', 'available')]), [])

    @with_transaction()
    def test_line_quota_refused_first(self):
        "An identity at its limit of lines is refused at the first step"
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        brands, products, numbers, clerk = self.setup()
        customer = create_customer()
        config = Configuration(1)
        config.max_lines_per_identity = 1
        config.save()
        entry = Entry(clerk, active_model='party.party',
            active_id=customer.id, active_ids=[customer.id])
        self.to_number(entry, numbers[0])
        self.to_fees(entry, brands['SZX'], products[PLAN])
        entry.press('confirm')
        with self.assertRaises(UserError) as cm:
            Entry(clerk, active_model='party.party', active_id=customer.id,
                active_ids=[customer.id])
        self.assertIn('1', cm.exception.message)

    @with_transaction()
    def test_number_search(self):
        "A tail finds the company's available numbers only, premium priced"
        pool = Pool()
        Number = pool.get('telecom.number')
        Company = pool.get('company.company')
        Party = pool.get('party.party')
        Form = pool.get('telecom.order.entry.number')
        brands, products, numbers, clerk = self.setup()
        company = setup_company()
        # a taken 8888 and one of another company stay out
        Number.create([{'number': '13700008888', 'grade': 'premium',
                    'state': 'cooling'}])
        other, = Company.create([{'party': Party.create(
                        [{'name': "中国移动通信集团浙江有限公司"}])[0].id,
                    'currency': company.currency.id}])
        Number.create([{'number': '13600008888', 'company': other.id}])

        form = Form(company=company, pattern='8888', match='tail',
            grade=None, number=None)
        form.on_change_pattern()
        self.assertEqual(sorted(n.number for n in form.numbers),
            ['13800008888', '13912348888'])
        self.assertEqual({n.grade for n in form.numbers}, {'premium'})
        self.assertIsNone(form.number)
        form.number = numbers[1]
        self.assertEqual(form.on_change_with_price(), Decimal('888'))

        form.pattern, form.match = '139', 'prefix'
        form.number = None
        form.on_change_match()
        self.assertEqual([n.number for n in form.numbers], ['13912348888'])
        # one match is chosen at once
        self.assertEqual(form.number, numbers[1])

        form.pattern, form.match, form.grade = '', 'tail', 'ordinary'
        form.on_change_grade()
        self.assertEqual(sorted(n.number for n in form.numbers),
            ['13800138000', '13800138001'])
        form.pattern = '88a8'
        with self.assertRaises(UserError) as cm:
            form.on_change_pattern()
        self.assertIn('88a8', cm.exception.message)

    @with_transaction()
    def test_number_reserved_while_open(self):
        "The number chosen is reserved; changed or cancelled, it is free"
        pool = Pool()
        Number = pool.get('telecom.number')
        Order = pool.get('telecom.order')
        brands, products, numbers, clerk = self.setup()
        customer = create_customer()
        entry = Entry(clerk, active_model='party.party',
            active_id=customer.id, active_ids=[customer.id])
        self.to_number(entry, numbers[1])
        order, = Order.search([('customer', '=', customer.id)])
        self.assertEqual(order.state, 'draft')
        self.assertEqual((numbers[1].state, numbers[1].reserved_order),
            ('reserved', order))

        # back to the numbers: another one is chosen, the first is free
        entry.press('choose_number')
        self.assertEqual(entry.values['number'], numbers[1].id)
        entry.press('reserve', number=numbers[2].id)
        self.assertEqual(Number(numbers[1].id).state, 'available')
        self.assertEqual(Number(numbers[2].id).state, 'reserved')

        entry.press('cancel')
        self.assertEqual(entry.result, {})
        self.assertEqual(Number(numbers[2].id).state, 'available')
        self.assertEqual(Order(order.id).state, 'cancelled')

        # the window closed instead: the client ends the session
        entry = Entry(clerk, active_model='party.party',
            active_id=customer.id, active_ids=[customer.id])
        self.to_number(entry, numbers[2])
        self.assertEqual(Number(numbers[2].id).state, 'reserved')
        with entry.as_user():
            entry.Wizard.delete(entry.session)
        self.assertEqual(Number(numbers[2].id).state, 'available')

    @with_transaction()
    def test_plans_by_brand_and_age(self):
        "Plans and services offered suit the brand and the customer's age"
        pool = Pool()
        Form = pool.get('telecom.order.entry.plan')
        brands, products, numbers, clerk = self.setup()
        campus = products["动感地带 19元校园卡"]    # 16 to 25
        trendy = products["动感地带 29元潮玩卡"]    # up to 30
        form = Form(brand=brands['MZONE'], age=20)
        plans = form.on_change_with_plans()
        self.assertIn(campus, plans)
        self.assertIn(trendy, plans)
        self.assertEqual({p.telecom_brand for p in plans}, {brands['MZONE']})
        form.age = 28
        self.assertEqual(form.on_change_with_plans(),
            [trendy, products["动感地带 59元芒果卡"]])
        form.brand = brands['SZX']
        self.assertNotIn(campus, form.on_change_with_plans())
        services = form.on_change_with_eligible_services()
        self.assertIn(products["彩铃"], services)
        self.assertEqual({s.telecom_type for s in services}, {'addon', 'vas'})

        # the wizard shows the customer's age and only those plans
        customer = create_customer(code=valid_id(
                3, born=dt.date.today().replace(day=1)
                - dt.timedelta(days=365 * 40)))
        entry = Entry(clerk, active_model='party.party',
            active_id=customer.id, active_ids=[customer.id])
        self.to_number(entry, numbers[0])
        self.assertIn(entry.values['age'], {39, 40})
        with self.assertRaises(UserError):
            entry.press('planned', brand=brands['MZONE'].id,
                plan=campus.id, services=[])

    @with_transaction()
    def test_account_of_the_customer_only(self):
        "The account offered and accepted is the customer's own"
        pool = Pool()
        Order = pool.get('telecom.order')
        Fees = pool.get('telecom.order.entry.fees')
        brands, products, numbers, clerk = self.setup()
        customer = create_customer()
        stranger = create_customer(name="李四", sequence=2)
        theirs = create_account(stranger)
        ours = create_account(customer)
        domain = Fees.fields_get(['account'])['account']['domain']
        self.assertIn("payer", domain)
        entry = Entry(clerk, active_model='party.party',
            active_id=customer.id, active_ids=[customer.id])
        self.to_number(entry, numbers[0])
        self.to_fees(entry, brands['SZX'], products[PLAN])
        self.assertEqual(entry.values['account'], ours.id)
        with self.assertRaises(UserError):
            entry.press('confirm', account=theirs.id)

        # the plain order form too
        order, = Order.search([('customer', '=', customer.id)])
        with self.assertRaises(UserError):
            Order.write([order], {'account': theirs.id})
        Order.write([order], {'account': ours.id})

    @with_transaction()
    def test_fees_and_proration(self):
        "Premium fee, monthly fees and the first month's share from today"
        pool = Pool()
        Date = pool.get('ir.date')
        self.assertEqual(month_proration(dt.date(2026, 11, 21)), (10, 30))
        self.assertEqual(month_proration(dt.date(2026, 2, 1)), (28, 28))
        self.assertEqual(month_proration(dt.date(2024, 2, 29)), (1, 29))
        self.assertEqual(prorate(Decimal(30), 10, 30), Decimal(10))

        brands, products, numbers, clerk = self.setup()
        customer = create_customer()
        entry = Entry(clerk, active_model='party.party',
            active_id=customer.id, active_ids=[customer.id])
        self.to_number(entry, numbers[1])
        with patch.object(Date, 'today',
                classmethod(lambda cls: dt.date(2026, 11, 21))):
            self.to_fees(entry, brands['SZX'], products[PLAN],
                [products["彩铃"]])
        values = entry.values
        self.assertEqual(values['premium_fee'], Decimal('888'))
        self.assertEqual(values['plan_fee'], Decimal('18'))
        self.assertEqual(values['services_fee'], Decimal('5'))
        self.assertEqual((values['days_left'], values['days_in_month']),
            (10, 30))
        # (18 + 5) × 10 / 30
        self.assertEqual(values['prorated_fee'], Decimal('7.67'))
        self.assertEqual(values['total'], Decimal('895.67'))

    @with_transaction()
    def test_receipt(self):
        "The receipt renders the order: number, plan, SIM, fees, clerk"
        pool = Pool()
        Order = pool.get('telecom.order')
        Receipt = pool.get('telecom.order.receipt', type='report')
        brands, products, numbers, clerk = self.setup()
        customer = create_customer()
        entry = Entry(clerk, active_model='party.party',
            active_id=customer.id, active_ids=[customer.id])
        self.to_number(entry, numbers[1])
        self.to_fees(entry, brands['SZX'], products[PLAN])
        entry.press('confirm')
        order, = Order.search([('customer', '=', customer.id)])
        with Transaction().set_user(clerk.id):
            ext, content, _, name = Receipt.execute([order.id], {})
        self.assertEqual(ext, 'odt')
        with zipfile.ZipFile(io.BytesIO(content)) as odt:
            text = odt.read('content.xml').decode()
        for value in ['13912348888', PLAN, ICCID, '888.00', order.code,
                customer.cn_identifier.code, clerk.employee.rec_name]:
            self.assertIn(value, text)

        # a role without the identity group prints it masked
        agent = create_staff('agent', 'group_call_centre')
        with Transaction().set_user(agent.id), \
                Transaction().set_context(_check_access=True):
            _, content, _, _ = Receipt.execute([order.id], {})
        with zipfile.ZipFile(io.BytesIO(content)) as odt:
            text = odt.read('content.xml').decode()
        code = customer.cn_identifier.code
        self.assertNotIn(code, text)
        self.assertIn(code[:4] + '*' * 10 + code[-4:], text)
