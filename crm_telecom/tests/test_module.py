import datetime as dt
import unittest

from trytond.exceptions import UserError
from trytond.model.exceptions import (
    AccessButtonError,
    SQLConstraintError,
    ValidationError,
)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from crm_telecom import identity
from crm_telecom.tests.tools import (
    activation,
    create_account,
    create_customer,
    create_numbers,
    create_staff,
    network_waits,
    order,
    setup_company,
    setup_reference,
    valid_id,
    xlsx_report,
)


class IdentityTestCase(unittest.TestCase):
    "Resident ID numbers (GB 11643)"

    def test_valid(self):
        self.assertTrue(identity.is_valid('11010519491231002X'))
        self.assertTrue(identity.is_valid('11010519491231002x'))
        self.assertTrue(identity.is_valid(valid_id(7)))

    def test_invalid(self):
        self.assertEqual(identity.error('1101051949123100'), 'format')
        self.assertEqual(identity.error('11010519491231002A'), 'format')
        self.assertEqual(identity.error('110105194913310021'), 'birth_date')
        self.assertEqual(identity.error('110105203012310029',
                today=dt.date(2026, 1, 1)), 'birth_date')
        self.assertEqual(identity.error('110105194912310021'), 'checksum')

    def test_mask(self):
        self.assertEqual(identity.mask('11010519491231002X'),
            '1101**********002X')

    def test_age(self):
        code = valid_id(born=dt.date(2000, 6, 1))
        self.assertEqual(identity.age(code, dt.date(2020, 5, 31)), 19)
        self.assertEqual(identity.age(code, dt.date(2020, 6, 1)), 20)


class CrmTelecomTestCase(ModuleTestCase):
    "Test crm_telecom module"
    module = 'crm_telecom'

    def setup_line(self, customer=None, number='13800138000', **values):
        "An active line, activated through a done order"
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        customer = customer or create_customer()
        number, = create_numbers(number)
        plan = values.pop('plan', products["神州行 18元畅聊卡"])
        order = activation(customer, number, brands['SZX'], plan, **values)
        Order.process([order])
        return order.subscriber

    # --- identity and customers -------------------------------------------

    @with_transaction()
    def test_identifier_invalid(self):
        "Invalid resident IDs are refused with the reason"
        for code, reason in [
                ('12345', '17 digits'),
                ('110105194913310021', 'birth date'),
                ('110105194912310021', 'check character')]:
            with self.subTest(code=code):
                with self.assertRaises(ValidationError) as cm:
                    create_customer(code=code)
                self.assertIn(code, cm.exception.message)
                self.assertIn(reason, cm.exception.message)

    @with_transaction()
    def test_identifier_compacted(self):
        "Spaces and lower-case x are normalised"
        party = create_customer(code='11010519491231002x ')
        self.assertEqual(party.identifiers[0].code, '11010519491231002X')
        Party = Pool().get('party.party')
        self.assertEqual(Party.search(
                [('identity_code', '=', '11010519491231002x')]), [party])

    @with_transaction()
    def test_identity_masked_for_other_roles(self):
        "Call-centre agents see masked IDs, clerks the full number"
        pool = Pool()
        User = pool.get('res.user')
        Identifier = pool.get('party.identifier')
        Party = pool.get('party.party')
        ModelData = pool.get('ir.model.data')
        party = create_customer(code='11010519491231002X')
        agent, clerk = User.create([
                {'login': 'agent', 'groups': [('add', [ModelData.get_id(
                                    'crm_telecom', 'group_call_centre')])]},
                {'login': 'clerk', 'groups': [('add', [ModelData.get_id(
                                    'crm_telecom', 'group_clerk')])]},
                ])
        ident_id = party.identifiers[0].id
        with Transaction().set_user(agent.id), \
                Transaction().set_context(_check_access=True):
            row, = Identifier.read([ident_id], ['code', 'rec_name'])
            self.assertEqual(row['code'], '1101**********002X')
            self.assertEqual(row['rec_name'], '1101**********002X')
            row, = Party.read([party.id], ['identity_code'])
            self.assertEqual(row['identity_code'], '1101**********002X')
            rows = Party.export_data([party],
                ['name', 'identity_code', 'identifiers/code'])
            self.assertEqual(rows[0][1:],
                ['1101**********002X', '1101**********002X'])
        with Transaction().set_user(clerk.id), \
                Transaction().set_context(_check_access=True):
            row, = Identifier.read([ident_id], ['code'])
            self.assertEqual(row['code'], '11010519491231002X')

    # --- number pool ---------------------------------------------------------

    @with_transaction()
    def test_number_malformed(self):
        "Malformed numbers are refused, formatting is normalised"
        Number = Pool().get('telecom.number')
        setup_company()
        for value in ['1380013800', '23800138000', '1380013800a']:
            with self.subTest(value=value):
                with self.assertRaises(ValidationError) as cm:
                    Number.create([{'number': value}])
                self.assertIn(value, cm.exception.message)
        number, = Number.create([{'number': '+86 138-0013-8000'}])
        self.assertEqual(number.number, '13800138000')

    @with_transaction()
    def test_number_unique(self):
        create_numbers('13800138000')
        with self.assertRaises(SQLConstraintError):
            create_numbers('13800138000')

    # --- activation -----------------------------------------------------------

    @with_transaction()
    def test_activation(self):
        "Draft reserves the number, done creates the line and its event"
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        customer = create_customer()
        number, = create_numbers('13800138000')
        plan = products["神州行 18元畅聊卡"]
        order = activation(customer, number, brands['SZX'], plan)
        self.assertEqual(number.state, 'reserved')
        self.assertEqual(number.reserved_order, order)
        self.assertTrue(order.code.startswith('SO'))
        network_waits(self)

        Order.submit([order])
        self.assertEqual(order.state, 'provisioning')
        self.assertIsNone(order.subscriber)
        Order.complete([order])
        subscriber = order.subscriber
        self.assertEqual(subscriber.state, 'active')
        self.assertEqual(subscriber.number.state, 'active')
        self.assertEqual(subscriber.plan, plan)
        event, = subscriber.events
        self.assertEqual((event.type, event.from_state, event.to_state),
            ('activate', 'draft', 'active'))
        self.assertEqual(event.order, order)
        self.assertEqual(event.user.id, Transaction().user)

    @with_transaction()
    def test_submit_provisions(self):
        "One button: Submit hands a valid order to the network at once"
        pool = Pool()
        Order = pool.get('telecom.order')
        ModelData = pool.get('ir.model.data')
        regions, brands, products = setup_reference()
        number, = create_numbers('13800138000')
        activate = activation(create_customer(), number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        # without a network (crm_telecom alone) it is done at once
        Order.submit([activate])
        self.assertEqual(activate.state, 'done')
        self.assertEqual(activate.subscriber.state, 'active')
        self.assertNotIn('provision', Order._buttons)
        self.assertEqual(
            Order.fields_view_get(ModelData.get_id(
                    'crm_telecom', 'order_view_form'))['arch'].count(
                'name="provision"'), 0)

        network_waits(self)
        suspend = order('suspend', activate.subscriber,
            suspension_reason='loss')
        Order.submit([suspend])
        self.assertEqual(suspend.state, 'provisioning')
        self.assertEqual(activate.subscriber.state, 'active')

    @with_transaction()
    def test_complete_fail_for_operators(self):
        """Only billing operators and administrators complete or fail an
        order by hand; a clerk's Submit still completes it"""
        pool = Pool()
        Order = pool.get('telecom.order')
        clerk = create_staff('clerk', 'group_clerk')
        billing = create_staff('billing', 'group_billing')
        subscriber = self.setup_line()
        regions, brands, products = setup_reference()
        number, = create_numbers('13900139000')
        activate = activation(create_customer(name="李四", sequence=2),
            number, brands['SZX'], products["神州行 18元畅聊卡"])
        with Transaction().set_user(clerk.id), \
                Transaction().set_context(_check_access=True):
            Order.submit([Order(activate.id)])
        self.assertEqual(activate.state, 'done')

        network_waits(self)
        suspend = order('suspend', subscriber, suspension_reason='loss')
        Order.submit([suspend])
        self.assertEqual(suspend.state, 'provisioning')
        for button in [Order.complete, Order.fail]:
            with self.subTest(button=button.__name__):
                with Transaction().set_user(clerk.id), \
                        Transaction().set_context(_check_access=True):
                    with self.assertRaises(AccessButtonError):
                        button([Order(suspend.id)])
        self.assertEqual(suspend.state, 'provisioning')
        with Transaction().set_user(billing.id), \
                Transaction().set_context(_check_access=True):
            Order.complete([Order(suspend.id)])
        self.assertEqual(suspend.state, 'done')
        self.assertEqual(subscriber.state, 'suspended')

    @with_transaction()
    def test_network_buttons_hidden(self):
        """Complete and Fail are not in the order form of the roles that
        may not press them (Tryton would only grey them out)"""
        pool = Pool()
        Order = pool.get('telecom.order')
        ModelData = pool.get('ir.model.data')
        view_id = ModelData.get_id('crm_telecom', 'order_view_form')
        clerk = create_staff('clerk', 'group_clerk')
        billing = create_staff('billing', 'group_billing')
        for user, shown in [(clerk, False), (billing, True)]:
            with self.subTest(user=user.login), \
                    Transaction().set_user(user.id), \
                    Transaction().set_context(_check_access=True):
                arch = Order.fields_view_get(view_id)['arch']
                for button in ['complete', 'fail']:
                    self.assertEqual(
                        'name="%s"' % button in arch, shown, button)
                self.assertIn('name="submit"', arch)

    @with_transaction()
    def test_progress(self):
        "The order form tells each step and its time"
        pool = Pool()
        Order = pool.get('telecom.order')
        clerk = create_staff('clerk', 'group_clerk', name="王营业员")
        company = setup_company()
        company.timezone = 'Asia/Shanghai'
        company.save()
        regions, brands, products = setup_reference()
        number, = create_numbers('13900139000')
        activate = activation(create_customer(), number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        self.assertIsNone(activate.progress)
        with Transaction().set_user(clerk.id), \
                Transaction().set_context(_check_access=True):
            Order.submit([Order(activate.id)])
        activate = Order(activate.id)
        local = dt.timedelta(hours=8)
        submitted, done = activate.progress.splitlines()
        self.assertEqual(submitted, "Submitted: %s, 王营业员" % (
                activate.submitted_at + local).strftime('%Y-%m-%d %H:%M:%S'))
        self.assertEqual(done, "Done: %s" % (
                activate.done_at + local).strftime('%Y-%m-%d %H:%M:%S'))

        network_waits(self)
        suspend = order('suspend', activate.subscriber,
            suspension_reason='loss')
        Order.submit([suspend])
        self.assertEqual(suspend.progress.splitlines()[1:],
            ["Waiting for the network's acknowledgement"])
        Order.fail([suspend], reason="网络忙")
        self.assertEqual(Order(suspend.id).progress.splitlines()[1:],
            ["Failed: 网络忙"])

    @with_transaction()
    def test_activation_with_services(self):
        "An activation starts the line with its add-ons and services"
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        number, = create_numbers('13800138000')
        services = [products["彩铃"], products["流量加油包 10元1GB"]]
        activate = activation(create_customer(), number, brands['SZX'],
            products["神州行 18元畅聊卡"],
            services=[('add', [s.id for s in services])])
        self.assertEqual(set(activate.services), set(services))
        Order.submit([activate])
        subscriber = activate.subscriber
        self.assertEqual(
            {(s.product, s.state, s.order) for s in subscriber.services},
            {(p, 'active', activate) for p in services})
        events = {e.type: e for e in subscriber.events
            if e.type != 'add_service'}
        self.assertEqual(set(events), {'activate'})
        added = [e for e in subscriber.events if e.type == 'add_service']
        self.assertEqual({e.service for e in added},
            set(subscriber.services))
        self.assertEqual({e.order for e in added}, {activate})
        self.assertEqual({e.user.id for e in added}, {Transaction().user})

    @with_transaction()
    def test_activation_services_eligible(self):
        "A service of another brand is refused when the order is submitted"
        pool = Pool()
        Order = pool.get('telecom.order')
        Template = pool.get('product.template')
        regions, brands, products = setup_reference()
        mail = products["139邮箱"]
        Template.write([mail], {'telecom_brand': brands['GOTONE'].id})
        number, = create_numbers('13800138000')
        activate = activation(create_customer(), number, brands['SZX'],
            products["神州行 18元畅聊卡"],
            services=[('add', [products["彩铃"].id, mail.id])])
        with self.assertRaises(UserError) as cm:
            Order.submit([activate])
        self.assertIn(mail.name, cm.exception.message)
        self.assertEqual(activate.state, 'draft')
        self.assertIsNone(activate.subscriber)

    @with_transaction()
    def test_number_taken(self):
        "A number reserved by one order cannot be taken by another"
        regions, brands, products = setup_reference()
        plan = products["神州行 18元畅聊卡"]
        number, = create_numbers('13800138000')
        activation(create_customer(), number, brands['SZX'], plan)
        with self.assertRaises(UserError) as cm:
            activation(create_customer(name="李四", sequence=2), number,
                brands['SZX'], plan)
        self.assertIn('13800138000', cm.exception.message)

    @with_transaction()
    def test_cancel_releases_number(self):
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        number, = create_numbers('13800138000')
        order = activation(create_customer(), number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        Order.cancel([order])
        self.assertEqual(number.state, 'available')
        self.assertIsNone(number.reserved_order)

    @with_transaction()
    def test_expired_reservation_cancelled(self):
        "Cron: a draft activation past its reservation frees the number"
        pool = Pool()
        Order = pool.get('telecom.order')
        Number = pool.get('telecom.number')
        regions, brands, products = setup_reference()
        numbers = create_numbers('13800138001', '13800138002')
        plan = products["神州行 18元畅聊卡"]
        stale = activation(create_customer(), numbers[0], brands['SZX'],
            plan)
        fresh = activation(create_customer(name="李四", sequence=2),
            numbers[1], brands['SZX'], plan)
        Number.write([numbers[0]], {
                'reserved_until': dt.datetime.now() - dt.timedelta(hours=1)})
        Order.cancel_expired_reservations()
        self.assertEqual(stale.state, 'cancelled')
        self.assertEqual(numbers[0].state, 'available')
        self.assertEqual(fresh.state, 'draft')
        self.assertEqual(numbers[1].state, 'reserved')

    @with_transaction()
    def test_failed_order_leaves_line(self):
        "A failed order changes nothing on the line and frees its number"
        pool = Pool()
        Order = pool.get('telecom.order')
        subscriber = self.setup_line()
        regions, brands, products = setup_reference()
        suspend = order('suspend', subscriber,
            suspension_reason='customer_request')
        network_waits(self)
        Order.submit([suspend])
        Order.fail([suspend], reason="network timeout")
        self.assertEqual(suspend.state, 'failed')
        self.assertEqual(subscriber.state, 'active')
        self.assertEqual(len(subscriber.events), 1)

        number, = create_numbers('13900139000')
        new = activation(subscriber.customer, number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        Order.submit([new])
        Order.fail([new])
        self.assertEqual(number.state, 'available')
        self.assertIsNone(new.subscriber)

    @with_transaction()
    def test_blacklisted_cannot_activate(self):
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        customer = create_customer(blacklisted=True,
            blacklist_reason="欠费")
        number, = create_numbers('13800138000')
        order = activation(customer, number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        with self.assertRaises(UserError) as cm:
            Order.submit([order])
        self.assertIn(customer.name, cm.exception.message)
        self.assertEqual(order.state, 'draft')
        self.assertEqual(number.state, 'reserved')

    @with_transaction()
    def test_activation_needs_identity(self):
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        customer = create_customer(code=False)
        number, = create_numbers('13800138000')
        order = activation(customer, number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        with self.assertRaises(UserError):
            Order.submit([order])

    @with_transaction()
    def test_lines_per_identity(self):
        "At most N lines per identity, across parties sharing it"
        pool = Pool()
        Order = pool.get('telecom.order')
        Configuration = pool.get('telecom.configuration')
        config = Configuration(1)
        config.max_lines_per_identity = 2
        config.save()
        regions, brands, products = setup_reference()
        plan = products["神州行 18元畅聊卡"]
        first = create_customer(code=valid_id(3))
        twin = create_customer(name="张三(副卡)", code=valid_id(3))
        numbers = create_numbers('13800138001', '13800138002', '13800138003')
        orders = [activation(c, n, brands['SZX'], plan)
            for c, n in zip([first, twin, first], numbers)]
        Order.process(orders[:1])
        # the second one on its way counts too
        network_waits(self)
        Order.submit(orders[1:2])
        self.assertEqual(orders[1].state, 'provisioning')
        with self.assertRaises(UserError) as cm:
            Order.submit(orders[2:])
        self.assertIn('2', cm.exception.message)

    @with_transaction()
    def test_plan_eligibility(self):
        "Plans restricted to a brand or an age band"
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        # 天河区 (440106) has its code since 1985: Chaoyang's is older
        old = create_customer(code=valid_id(born=dt.date(1960, 1, 1),
                region='110105'))
        numbers = create_numbers('13800138001', '13800138002')
        campus = activation(old, numbers[0], brands['MZONE'],
            products["动感地带 19元校园卡"])
        with self.assertRaises(UserError):
            Order.submit([campus])
        wrong_brand = activation(old, numbers[1], brands['SZX'],
            products["全球通 88元套餐"])
        with self.assertRaises(UserError):
            Order.submit([wrong_brand])

    @with_transaction()
    def test_live_number_unique_in_database(self):
        "The database refuses two live lines on one number"
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        subscriber = self.setup_line()
        with self.assertRaises(SQLConstraintError):
            Subscriber.create([{
                        'number': subscriber.number.id,
                        'customer': subscriber.customer.id,
                        'account': subscriber.account.id,
                        'brand': subscriber.brand.id,
                        'plan': subscriber.plan.id,
                        'state': 'active',
                        }])

    # --- changes on a line -------------------------------------------------

    @with_transaction()
    def test_suspend_and_resume_with_services(self):
        "Services stopped by a suspension come back with the line"
        pool = Pool()
        Order = pool.get('telecom.order')
        subscriber = self.setup_line()
        regions, brands, products = setup_reference()
        adds = [order('add_service', subscriber, service=products[name])
            for name in ["彩铃", "咪咕视频会员"]]
        for add in adds:
            Order.process([add])
        self.assertEqual([s.state for s in subscriber.services],
            ['active', 'active'])

        suspend = order('suspend', subscriber, suspension_reason='loss')
        Order.process([suspend])
        self.assertEqual(subscriber.state, 'suspended')
        self.assertEqual(subscriber.suspension_reason, 'loss')
        self.assertEqual({s.state for s in subscriber.services},
            {'suspended'})

        resume = order('resume', subscriber)
        Order.process([resume])
        self.assertEqual(subscriber.state, 'active')
        self.assertIsNone(subscriber.suspension_reason)
        self.assertEqual({s.state for s in subscriber.services}, {'active'})
        types = [e.type for e in subscriber.events if e.order == resume]
        self.assertEqual(sorted(types),
            ['resume', 'service_resumed', 'service_resumed'])

    @with_transaction()
    def test_order_needs_line_state(self):
        pool = Pool()
        Order = pool.get('telecom.order')
        subscriber = self.setup_line()
        resume = order('resume', subscriber)
        with self.assertRaises(UserError):
            Order.submit([resume])

    @with_transaction()
    def test_one_order_in_progress(self):
        pool = Pool()
        Order = pool.get('telecom.order')
        subscriber = self.setup_line()
        network_waits(self)
        first = order('suspend', subscriber, suspension_reason='loss')
        Order.submit([first])
        second = order('terminate', subscriber)
        with self.assertRaises(UserError):
            Order.submit([second])

    @with_transaction()
    def test_change_plan_immediate(self):
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        subscriber = self.setup_line(plan=products["神州行 18元畅聊卡"])
        change = order('change_plan', subscriber,
            plan=products["神州行 58元套餐"].id)
        Order.process([change])
        self.assertEqual(subscriber.plan, products["神州行 58元套餐"])
        self.assertIsNone(subscriber.pending_plan)

    @with_transaction()
    def test_change_plan_next_cycle(self):
        pool = Pool()
        Order = pool.get('telecom.order')
        Subscriber = pool.get('telecom.subscriber')
        Date = pool.get('ir.date')
        regions, brands, products = setup_reference()
        old, new = products["神州行 38元家园卡"], products["神州行 58元套餐"]
        subscriber = self.setup_line(plan=old)
        change = order('change_plan', subscriber, plan=new.id)
        Order.process([change])
        self.assertEqual(subscriber.plan, old)
        self.assertEqual(subscriber.pending_plan, new)
        start = subscriber.account.next_cycle_start(Date.today())
        self.assertEqual(subscriber.pending_plan_date, start)
        self.assertEqual(change.effective_date, start)
        Subscriber.apply_pending_plans(start - dt.timedelta(days=1))
        self.assertEqual(subscriber.plan, old)
        Subscriber.apply_pending_plans(start)
        self.assertEqual(subscriber.plan, new)
        self.assertIsNone(subscriber.pending_plan)
        self.assertEqual(subscriber.events[0].type, 'plan_applied')

    @with_transaction()
    def test_transfer(self):
        "Ownership moves only to a new owner with a valid identity"
        pool = Pool()
        Order = pool.get('telecom.order')
        subscriber = self.setup_line()
        nameless = create_customer(name="无证", code=False)
        transfer = order('transfer', subscriber, new_owner=nameless.id,
            account=create_account(nameless).id)
        with self.assertRaises(UserError):
            Order.submit([transfer])
        Order.cancel([transfer])

        heir = create_customer(name="李四", sequence=2)
        account = create_account(heir)
        transfer = order('transfer', subscriber, new_owner=heir.id,
            account=account.id)
        Order.process([transfer])
        self.assertEqual(subscriber.customer, heir)
        self.assertEqual(subscriber.account, account)
        self.assertEqual(subscriber.events[0].type, 'transfer')

    @with_transaction()
    def test_terminate_cools_number(self):
        "Termination sends the number to cooling, then back to the pool"
        pool = Pool()
        Order = pool.get('telecom.order')
        Number = pool.get('telecom.number')
        Configuration = pool.get('telecom.configuration')
        Date = pool.get('ir.date')
        config = Configuration(1)
        config.cooling_days = 30
        config.save()
        subscriber = self.setup_line()
        terminate = order('terminate', subscriber)
        Order.process([terminate])
        number = subscriber.number
        self.assertEqual(subscriber.state, 'terminated')
        self.assertEqual(number.state, 'cooling')
        self.assertEqual(number.cooling_until,
            Date.today() + dt.timedelta(days=30))
        Number.release_cooled()
        self.assertEqual(Number(number.id).state, 'cooling')
        Number.write([number], {'cooling_until': Date.today()})
        Number.release_cooled()
        self.assertEqual(Number(number.id).state, 'available')

    # --- low-code and Excel ------------------------------------------------

    @with_transaction()
    def test_extra_fields(self):
        "Administrator-defined fields are stored, searched and exported"
        pool = Pool()
        ExtraField = pool.get('telecom.extra_field')
        Party = pool.get('party.party')
        ExtraField.create([
                {'name': 'occupation', 'string': "Occupation",
                    'type_': 'selection', 'target': 'party.party',
                    'selection': 'teacher:Teacher\nengineer:Engineer'},
                {'name': 'vip_since', 'string': "VIP Since",
                    'type_': 'date', 'target': 'party.party'},
                ])
        party = create_customer(extra={'occupation': 'teacher',
                'vip_since': dt.date(2020, 1, 1)})
        create_customer(name="李四", sequence=2,
            extra={'occupation': 'engineer'})
        self.assertEqual(Party.search(
                [('extra.occupation', '=', 'teacher')]), [party])
        self.assertEqual(party.extra_string['occupation'], "Teacher")
        rows = Party.export_data([party], ['name', 'extra'])
        self.assertIn('teacher', str(rows))
        with self.assertRaises(ValidationError) as cm:
            Party.write([party], {'extra': {'vip_since': 'yesterday'}})
        self.assertIn('VIP Since', cm.exception.message)
        with self.assertRaises(ValidationError):
            Party.write([party], {'extra': {'occupation': 'pilot'}})
        keys = ExtraField.get_keys(ExtraField.search([]))
        self.assertEqual({k['name'] for k in keys}, {'occupation', 'vip_since'})

    @with_transaction()
    def test_subscriber_list_xlsx(self):
        "The Excel subscriber list honours its filters"
        regions, brands, products = setup_reference()
        self.setup_line(number='13800138001')
        self.setup_line(customer=create_customer(name="王五", sequence=5),
            number='13800138002', plan=products["神州行 58元套餐"])
        sheet, rows = xlsx_report('telecom.subscriber.list.xlsx', data={
                'plan': products["神州行 58元套餐"].id, 'state': 'active'})
        self.assertIn("神州行 58元套餐", rows[0][0])
        self.assertEqual(rows[2][0], 'Number')
        data = rows[3:]
        self.assertEqual(len(data), 1)
        self.assertEqual(data[0][0], '13800138002')
        self.assertEqual(data[0][3], "王五")
        self.assertEqual(sheet.freeze_panes, 'A4')
        self.assertIsNotNone(sheet.auto_filter.ref)


del ModuleTestCase
