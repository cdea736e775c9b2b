"Channels, dealers and the number stock of their outlets"
import unittest

from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

from crm_channel.tests.tools import allocate, create_dealer, sell
from crm_telecom.tests.tools import (
    create_numbers,
    create_payment,
    setup_company,
    setup_reference,
)


class ChannelTestCase(unittest.TestCase):
    "Channels, dealers, outlets and number stock"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_channel')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    @with_transaction()
    def test_channel_code_unique_per_company(self):
        "A channel code is unique within its company"
        Channel = Pool().get('telecom.channel')
        company = setup_company()
        Channel.create([{'name': "天河营业厅", 'code': 'TH-01',
                    'kind': 'business_hall', 'company': company.id}])
        with self.assertRaises(UserError):
            Channel.create([{'name': "天河二厅", 'code': 'TH-01',
                        'kind': 'business_hall', 'company': company.id}])

    @with_transaction()
    def test_outlet_needs_dealer(self):
        "A dealer outlet names its dealer"
        Channel = Pool().get('telecom.channel')
        company = setup_company()
        with self.assertRaises(ValidationError):
            Channel.create([{'name': "无主网点", 'code': 'X-01',
                        'kind': 'outlet', 'company': company.id}])

    @with_transaction()
    def test_allocate_and_return(self):
        "Numbers move from the pool to an outlet and back, logged"
        pool = Pool()
        Number = pool.get('telecom.number')
        Allocation = pool.get('telecom.number.allocation')
        setup_reference()
        dealer = create_dealer()
        outlet, = dealer.outlets
        numbers = allocate(outlet, '13900000001', '13900000002')
        self.assertEqual({n.outlet for n in numbers}, {outlet})
        with self.assertRaises(UserError):
            # already the outlet's
            Number.allocate(numbers, outlet)
        Number.return_to_pool(numbers[:1])
        self.assertIsNone(Number(numbers[0].id).outlet)
        self.assertEqual(
            [(a.number.number, a.kind) for a in Allocation.search(
                    [], order=[('id', 'ASC')])],
            [('13900000001', 'allocate'), ('13900000002', 'allocate'),
                ('13900000001', 'return')])

    @with_transaction()
    def test_outlet_activates_only_its_numbers(self):
        "An outlet activates the numbers allocated to it and no other"
        setup_reference()
        dealer = create_dealer(outlets=2)
        first, second = dealer.outlets
        own, = allocate(first, '13900000011')
        others, = allocate(second, '13900000012')
        pool_number, = create_numbers('13900000013')
        line = sell(first, own)
        self.assertEqual(line.state, 'active')
        self.assertEqual((line.channel, line.dealer), (first, dealer))
        with self.assertRaises(UserError) as cm:
            sell(first, others, sequence=2)
        self.assertIn('13900000012', cm.exception.message)
        with self.assertRaises(UserError) as cm:
            sell(first, pool_number, sequence=3)
        self.assertIn('13900000013', cm.exception.message)

    @with_transaction()
    def test_allocated_number_not_sold_elsewhere(self):
        "A number allocated to an outlet is not activated at a hall"
        Channel = Pool().get('telecom.channel')
        setup_reference()
        company = setup_company()
        hall, = Channel.create([{'name': "天河营业厅", 'code': 'TH-01',
                    'kind': 'business_hall', 'company': company.id}])
        dealer = create_dealer()
        number, = allocate(dealer.outlets[0], '13900000021')
        with self.assertRaises(UserError) as cm:
            sell(hall, number)
        self.assertIn('13900000021', cm.exception.message)

    @with_transaction()
    def test_cooled_number_back_to_pool(self):
        "A sold number, once cooled, is the pool's again"
        pool = Pool()
        Number = pool.get('telecom.number')
        setup_reference()
        dealer = create_dealer()
        number, = allocate(dealer.outlets[0], '13900000031')
        sell(dealer.outlets[0], number)
        Number.write([number], {'state': 'cooling',
                'cooling_until': pool.get('ir.date').today()})
        Number.release_cooled()
        number = Number(number.id)
        self.assertEqual((number.state, number.outlet), ('available', None))

    @with_transaction()
    def test_payment_outlet_sets_channel(self):
        "A payment taken at an outlet is an agent payment"
        setup_reference()
        dealer = create_dealer()
        number, = allocate(dealer.outlets[0], '13900000041')
        line = sell(dealer.outlets[0], number)
        payment = create_payment(line.account, '50',
            outlet=dealer.outlets[0].id)
        self.assertEqual(payment.channel, 'agent')

    @with_transaction()
    def test_terminate_dealer_closes_outlets(self):
        "A terminated dealer's outlets close"
        Agent = Pool().get('commission.agent')
        dealer = create_dealer(outlets=2)
        Agent.suspend([dealer])
        Agent.terminate([dealer])
        dealer = Agent(dealer.id)
        self.assertEqual(dealer.dealer_state, 'terminated')
        self.assertFalse(dealer.active)
        self.assertEqual({o.state for o in dealer.outlets}, {'closed'})

    @with_transaction()
    def test_entry_offers_pool_numbers(self):
        "The activation entry offers the pool's numbers, not an outlet's"
        pool = Pool()
        Entry = pool.get('telecom.order.entry.number')
        Number = pool.get('telecom.number')
        setup_reference()
        dealer = create_dealer()
        allocated, = allocate(dealer.outlets[0], '13900000051')
        free, = create_numbers('13900000052')
        entry = Entry(company=setup_company(), pattern='1390000005',
            match='prefix', grade=None)
        self.assertEqual(Number.search(entry.number_domain()), [free])
