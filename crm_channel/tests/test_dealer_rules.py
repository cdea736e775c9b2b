"What a dealer's users see: their own outlets, stock, sales and money"
import unittest
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction

from crm_channel.tests.tools import (
    allocate,
    as_user,
    create_dealer,
    create_dealer_user,
    sell,
)
from crm_telecom import iccid, identity
from crm_telecom.tests.tools import (
    create_payment,
    create_staff,
    setup_company,
    setup_reference,
    valid_id,
)


def commission_product():
    "The service product commissions are paid as"
    pool = Pool()
    Template = pool.get('product.template')
    Product = pool.get('product.product')
    Uom = pool.get('product.uom')
    unit, = Uom.search([('name', '=', 'Unit')])
    # the list price is a company value
    with Transaction().set_context(company=setup_company().id):
        template, = Template.create([{'name': "代理佣金", 'type': 'service',
                    'default_uom': unit.id, 'list_price': Decimal(0)}])
        product, = Product.create([{'template': template.id}])
    return product


def origin(line):
    """The line as the commission's origin, once the commission plans
    list lines among the origins"""
    Commission = Pool().get('commission')
    if 'telecom.subscriber' in dict(Commission.get_origin()):
        return str(line)


class DealerRulesTestCase(unittest.TestCase):
    "Dealer record rules"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_channel')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def setup_dealers(self):
        """Two dealers with an outlet each, a line sold at each, a payment
        taken at each outlet, a commission each, a number in stock each;
        a user acting for the first"""
        pool = Pool()
        Commission = pool.get('commission')
        setup_reference()
        ours = create_dealer()
        theirs = create_dealer("佛山恒通数码有限公司", code='GD-DL-0002')
        data = {}
        product = commission_product()
        for key, dealer, prefix, sequence in [
                ('ours', ours, '1390000010', 1),
                ('theirs', theirs, '1390000020', 2)]:
            outlet, = dealer.outlets
            sold, stock = allocate(outlet, prefix + '1', prefix + '2')
            line = sell(outlet, sold, sequence=sequence)
            payment = create_payment(line.account, '50', outlet=outlet.id)
            commission, = Commission.create([{
                        'agent': dealer.id,
                        'product': product.id,
                        'amount': Decimal('30.00'),
                        'origin': origin(line),
                        }])
            data[key] = {
                'telecom.channel': outlet,
                'telecom.number': stock,
                'telecom.subscriber': line,
                'party.party': line.customer,
                'telecom.account': line.account,
                'telecom.payment': payment,
                'commission': commission,
                'commission.agent': dealer,
                }
        Order = pool.get('telecom.order')
        for key in data:
            data[key]['telecom.order'], = Order.search([
                    ('subscriber', '=', data[key]['telecom.subscriber'].id),
                    ('type', '=', 'activate')])
        user = create_dealer_user('xunda', ours)
        return user, data['ours'], data['theirs']

    def visible(self, model, *records):
        "The records of those a search by id returns"
        Model = Pool().get(model)
        return set(Model.search([('id', 'in', [r.id for r in records])]))

    @with_transaction()
    def test_dealer_sees_only_its_own(self):
        "A dealer's user reads its records and none of another dealer's"
        pool = Pool()
        user, ours, theirs = self.setup_dealers()
        with as_user(user):
            for model in ours:
                with self.subTest(model=model):
                    Model = pool.get(model)
                    self.assertEqual(
                        self.visible(model, ours[model], theirs[model]),
                        {ours[model]})
                    # and nothing else of theirs in a full search
                    self.assertNotIn(theirs[model], Model.search([]))
                    Model.read([ours[model].id], ['rec_name'])
                    with self.assertRaises(AccessError):
                        Model.read([theirs[model].id], ['rec_name'])
            Allocation = pool.get('telecom.number.allocation')
            self.assertEqual(
                {a.outlet for a in Allocation.search([])},
                {ours['telecom.channel']})
            # the forms of its dealer and outlets show their relations
            Agent = pool.get('commission.agent')
            row, = Agent.read([ours['commission.agent'].id],
                ['party.rec_name', 'company.rec_name'])
            self.assertEqual(row['party.']['rec_name'],
                "广州迅达通讯器材有限公司")
            # the other dealer's number cannot be looked up by its number
            Number = pool.get('telecom.number')
            self.assertEqual(Number.search(
                    [('number', '=', theirs['telecom.number'].number)]), [])

    @with_transaction()
    def test_dealer_without_dealer_sees_nothing(self):
        "An Agent user not linked to a dealer sees no dealer's records"
        pool = Pool()
        user, ours, theirs = self.setup_dealers()
        User = pool.get('res.user')
        User.write([user], {'dealer': None})
        with as_user(user):
            for model in ours:
                with self.subTest(model=model):
                    self.assertEqual(
                        self.visible(model, ours[model], theirs[model]),
                        set())

    @with_transaction()
    def test_two_dealers_users_apart(self):
        "Each dealer's user sees its own, one after the other (rule cache)"
        Channel = Pool().get('telecom.channel')
        user, ours, theirs = self.setup_dealers()
        other = create_dealer_user(
            'hengtong', theirs['commission.agent'])
        for who, expected in [(user, ours), (other, theirs), (user, ours)]:
            with as_user(who):
                self.assertEqual(
                    Channel.search([('kind', '=', 'outlet')]),
                    [expected['telecom.channel']])

    @with_transaction()
    def test_dealer_sees_resident_id_masked(self):
        "A dealer's user sees its customers' resident IDs masked"
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        Subscriber = pool.get('telecom.subscriber')
        user, ours, _ = self.setup_dealers()
        customer = ours['party.party']
        identifier, = customer.identifiers
        code = identifier.code
        masked = identity.mask(code)
        self.assertNotEqual(masked, code)
        with as_user(user):
            row, = Party.read([customer.id], ['identity_code'])
            self.assertEqual(row['identity_code'], masked)
            row, = Identifier.read([identifier.id], ['code', 'rec_name'])
            self.assertEqual((row['code'], row['rec_name']), (masked, masked))
            row, = Subscriber.read([ours['telecom.subscriber'].id],
                ['customer.identity_code'])
            self.assertEqual(row['customer.']['identity_code'], masked)
            rows = Party.export_data([Party(customer.id)],
                ['name', 'identity_code', 'identifiers/code'])
            self.assertNotIn(code, str(rows))
            # a full ID may still be looked up, among its own customers
            self.assertEqual(
                Party.search([('identity_code', '=', code)]), [customer])

    @with_transaction()
    def test_dealer_enters_activation(self):
        "A dealer's user opens a line for a new customer at its outlet"
        pool = Pool()
        Party = pool.get('party.party')
        Account = pool.get('telecom.account')
        Order = pool.get('telecom.order')
        Subscriber = pool.get('telecom.subscriber')
        regions, brands, products = setup_reference()
        user, ours, theirs = self.setup_dealers()
        outlet = ours['telecom.channel']
        number, = allocate(outlet, '13900000109')
        code = valid_id(7)
        with as_user(user):
            customer, = Party.create([{'name': "王五",
                        'identifiers': [('create', [{
                                        'type': identity.TYPE,
                                        'code': code}])]}])
            account, = Account.create([{'payer': customer.id}])
            # the outlet is the default channel of a one-outlet dealer
            self.assertEqual(Order.default_channel(), outlet.id)
            order, = Order.create([{'type': 'activate',
                        'customer': customer.id, 'account': account.id,
                        'number': number.id, 'brand': brands['SZX'].id,
                        'plan': products["神州行 18元畅聊卡"].id,
                        'iccid': iccid.make(109)}])
            self.assertEqual(order.channel, outlet)
            # the new customer is the dealer's before its line is active
            self.assertEqual(self.visible('party.party', customer),
                {customer})
            Order.submit([order])
            order = Order(order.id)
            self.assertEqual(order.state, 'done')
            line, = Subscriber.search([('number', '=', number.id)])
            self.assertEqual((line.channel, line.dealer),
                (outlet, ours['commission.agent']))
            self.assertEqual(self.visible('telecom.order', order), {order})
            self.assertEqual(self.visible('telecom.account', account),
                {account})
            row, = Party.read([customer.id], ['identity_code'])
            self.assertEqual(row['identity_code'], identity.mask(code))
            self.assertIn(order, Order.search([]))
            self.assertNotIn(theirs['telecom.order'], Order.search([]))

    @with_transaction()
    def test_staff_not_restricted(self):
        "The operator's staff see every dealer's records"
        pool = Pool()
        user, ours, theirs = self.setup_dealers()
        clerk = create_staff('clerk', 'group_clerk', name="营业员小陈")
        manager = create_staff('channel', 'group_channel_manager',
            name="渠道经理老赵")
        for staff, models in [
                (clerk, ['telecom.channel', 'telecom.number',
                        'telecom.order', 'telecom.subscriber', 'party.party',
                        'telecom.account', 'telecom.payment',
                        'commission.agent']),
                (manager, ['telecom.channel', 'commission.agent',
                        'telecom.subscriber'])]:
            with as_user(staff):
                for model in models:
                    with self.subTest(login=staff.login, model=model):
                        self.assertEqual(
                            self.visible(model, ours[model], theirs[model]),
                            {ours[model], theirs[model]})
                        pool.get(model).read(
                            [ours[model].id, theirs[model].id], ['rec_name'])
        with as_user(clerk):
            # and a clerk sees the full resident ID
            row, = pool.get('party.party').read(
                [theirs['party.party'].id], ['identity_code'])
            self.assertEqual(row['identity_code'],
                theirs['party.party'].identifiers[0].code)
