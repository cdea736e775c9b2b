"Risk flags raised on dealers by the set-based detection"
import datetime as dt
import unittest
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

from crm_channel.tests.tools import allocate, create_dealer, sell
from crm_telecom.tests.tools import (
    create_customer,
    setup_reference,
    usage,
    xlsx_report,
)

DATE = dt.date(2026, 6, 15)


def sold(outlet, first, dates, customer=None, start=1, region=None):
    "Lines sold at the outlet, activated on the dates"
    Subscriber = Pool().get('telecom.subscriber')
    numbers = allocate(outlet, *('%d' % (first + i)
            for i in range(len(dates))))
    lines = []
    for i, (number, date) in enumerate(zip(numbers, dates)):
        line = sell(outlet, number, customer=customer, sequence=start + i)
        Subscriber.write([line], {'activation_date': date,
                'region': region.id if region else None})
        lines.append(line)
    return lines


def configure(**values):
    Configuration = Pool().get('telecom.channel.configuration')
    config = Configuration(1)
    for name, value in values.items():
        setattr(config, name, value)
    config.save()


def days_before(days):
    return DATE - dt.timedelta(days=days)


class RiskTestCase(unittest.TestCase):
    "Dealer risk detection"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_channel')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def detect(self):
        Flag = Pool().get('telecom.dealer.risk_flag')
        return [(f.dealer, f.kind, f.value, f.threshold)
            for f in Flag.detect(DATE)]

    @with_transaction()
    def test_defaults(self):
        "The thresholds have defaults"
        Configuration = Pool().get('telecom.channel.configuration')
        config = Configuration(1)
        self.assertEqual((config.identity_max_lines, config.identity_days,
                config.no_usage_max_share, config.no_usage_min_lines,
                config.out_of_region_max_lines, config.spike_factor,
                config.spike_min_activations),
            (3, 30, Decimal(30), 10, 0, Decimal(3), 20))

    @with_transaction()
    def test_identity(self):
        "More lines on one resident ID than allowed, once while open"
        Flag = Pool().get('telecom.dealer.risk_flag')
        setup_reference()
        dealer = create_dealer()
        other = create_dealer(name="深圳华强通信", code='GD-DL-0002')
        customer = create_customer(sequence=7)
        sold(dealer.outlets[0], 13900000300, [days_before(d)
                for d in [0, 5, 10, 29]], customer=customer)
        # the same identity's older line is outside the 30 days
        sold(dealer.outlets[0], 13900000310, [days_before(30)],
            customer=create_customer(sequence=8))
        sold(other.outlets[0], 13900000320, [DATE, DATE, DATE],
            customer=create_customer(sequence=9))
        configure(identity_max_lines=4)
        self.assertEqual(self.detect(), [])
        configure(identity_max_lines=3)
        self.assertEqual(self.detect(),
            [(dealer, 'identity', Decimal(4), Decimal(3))])
        flag, = Flag.search([])
        self.assertEqual(flag.month, dt.date(2026, 6, 1))
        self.assertIn('× 4', flag.detail)
        self.assertNotIn(customer.identifiers[0].code, flag.detail)
        # not twice while open, again once cleared
        self.assertEqual(self.detect(), [])
        Flag.clear([flag])
        self.assertEqual(len(self.detect()), 1)

    @with_transaction()
    def test_no_usage(self):
        "Too many lines without usage in their first 30 days"
        Usage = Pool().get('telecom.usage')
        setup_reference()
        dealer = create_dealer()
        lines = sold(dealer.outlets[0], 13900000400,
            [days_before(30), days_before(45), days_before(59),
                # too young, and too old, to be judged
                days_before(29), days_before(60)])
        Usage.create([usage(lines[0], 'data', dt.datetime.combine(
                        days_before(25), dt.time(8)), volume=100)])
        configure(no_usage_min_lines=3, no_usage_max_share=Decimal(70))
        self.assertEqual(self.detect(), [])
        configure(no_usage_min_lines=4, no_usage_max_share=Decimal(50))
        self.assertEqual(self.detect(), [])
        configure(no_usage_min_lines=3)
        self.assertEqual(self.detect(),
            [(dealer, 'no_usage', Decimal('66.67'), Decimal(50))])
        self.assertEqual(self.detect(), [])

    @with_transaction()
    def test_out_of_region(self):
        "Lines activated outside the dealer's region tree"
        regions, _, _ = setup_reference()
        guangzhou = create_dealer(region=regions['440100'].id)
        nowhere = create_dealer(name="无区域代理", code='GD-DL-0002')
        outlet = guangzhou.outlets[0]
        sold(outlet, 13900000500, [DATE], region=regions['440106'])
        sold(outlet, 13900000510, start=2, dates=[DATE],
            region=regions['440100'])
        sold(outlet, 13900000520, start=3, dates=[DATE], region=None)
        sold(outlet, 13900000530, start=4, dates=[days_before(40)],
            region=regions['440303'])
        sold(nowhere.outlets[0], 13900000540, start=5, dates=[DATE],
            region=regions['440303'])
        self.assertEqual(self.detect(), [])
        sold(outlet, 13900000550, start=6, dates=[DATE, days_before(10)],
            region=regions['440303'])
        configure(out_of_region_max_lines=2)
        self.assertEqual(self.detect(), [])
        configure(out_of_region_max_lines=1)
        self.assertEqual(self.detect(),
            [(guangzhou, 'out_of_region', Decimal(2), Decimal(1))])
        self.assertEqual(self.detect(), [])

    @with_transaction()
    def test_spike(self):
        "This month's activations against the 3 months before"
        setup_reference()
        dealer = create_dealer()
        outlet = dealer.outlets[0]
        sold(outlet, 13900000600, [dt.date(2026, 3, 1), dt.date(2026, 4, 9),
                dt.date(2026, 5, 31),
                # before the 3 months and after the day: not counted
                dt.date(2026, 2, 28), dt.date(2026, 6, 16)])
        sold(outlet, 13900000610, start=6,
            dates=[dt.date(2026, 6, d) for d in [1, 2, 15]])
        configure(spike_min_activations=3, spike_factor=Decimal(3))
        self.assertEqual(self.detect(), [])
        sold(outlet, 13900000620, start=9, dates=[dt.date(2026, 6, 3)])
        configure(spike_min_activations=5)
        self.assertEqual(self.detect(), [])
        configure(spike_min_activations=4, spike_factor=Decimal(4))
        self.assertEqual(self.detect(), [])
        configure(spike_factor=Decimal(3))
        self.assertEqual(self.detect(),
            [(dealer, 'spike', Decimal(4), Decimal('3.00'))])
        self.assertEqual(self.detect(), [])

    @with_transaction()
    def test_wizard_and_excel(self):
        "The wizard raises the flags; the Excel list shows the open ones"
        pool = Pool()
        Flag = pool.get('telecom.dealer.risk_flag')
        Detect = pool.get('telecom.dealer.risk_flag.detect', type='wizard')
        regions, _, _ = setup_reference()
        dealer = create_dealer(region=regions['440100'].id)
        sold(dealer.outlets[0], 13900000700, [DATE],
            region=regions['440303'])
        session_id, _, _ = Detect.create()
        wizard = Detect(session_id)
        wizard.start.date = DATE
        wizard.do_detect(None)
        flag, = Flag.search([])
        self.assertEqual((flag.kind, flag.state), ('out_of_region', 'open'))
        sheet, rows = xlsx_report('telecom.dealer.risk_flag.xlsx')
        self.assertEqual(rows[2][:4], ("Raised On", "Dealer Code", "Dealer",
                "Risk"))
        self.assertEqual(rows[3][1:8], ('GD-DL-0001',
                dealer.rec_name, "Activations Outside the Dealer's Region",
                1, 0, "Open", flag.detail))
        Flag.clear([flag])
        sheet, rows = xlsx_report('telecom.dealer.risk_flag.xlsx')
        self.assertEqual(rows[3:], [])
        sheet, rows = xlsx_report('telecom.dealer.risk_flag.xlsx',
            [flag.id])
        self.assertEqual(rows[3][6], "Cleared")

    @with_transaction()
    def test_scorecard_without_service(self):
        "Without customer service the complaints count none"
        Scorecard = Pool().get('telecom.dealer.scorecard')
        setup_reference()
        dealer = create_dealer()
        sold(dealer.outlets[0], 13900000800, [DATE])
        card, = Scorecard.compute(DATE, as_of=DATE)
        self.assertEqual((card.activations, card.complaints,
                card.complaints_per_100), (1, 0, Decimal(0)))
