"Dealer commission plans: rules, tiers, services, instalments, clawbacks"
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

from crm_channel.tests.commission_tools import (
    bill_line,
    change,
    commissions,
    create_period,
    create_plan,
    month,
    monthly_periods,
    set_activation,
)
from crm_channel.tests.tools import allocate, create_dealer, sell
from crm_telecom.tests.tools import create_payment, setup_reference


def today():
    return Pool().get('ir.date').today()


class CommissionTestCase(unittest.TestCase):
    "Commission plans and the monthly commission run"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_channel')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def dealer_lines(self, count, plans=("神州行 18元畅聊卡",), **values):
        "A dealer and count lines it sold (plans in turn)"
        setup_reference()
        dealer = create_dealer()
        outlet, = dealer.outlets
        numbers = allocate(outlet, *('1390000%04d' % i
                for i in range(1, count + 1)))
        lines = [sell(outlet, n, plan=plans[i % len(plans)], sequence=i + 1,
                **values) for i, n in enumerate(numbers)]
        return dealer, lines

    @with_transaction()
    def test_one_off_by_plan(self):
        "A one-off amount per activation, the plan's own rule first"
        Period = Pool().get('telecom.commission.period')
        dealer, lines = self.dealer_lines(2,
            plans=("神州行 18元畅聊卡", "神州行 38元家园卡"))
        create_plan(dealer, [
                {'kind': 'one_off', 'amount': '10'},
                {'kind': 'one_off', 'product': "神州行 18元畅聊卡",
                    'amount': '30'},
                ])
        period = create_period(*month(today()))
        Period.compute([period])
        expected = [
            ('activation', lines[0].rec_name, D(30), None),
            ('activation', lines[1].rec_name, D(10), None),
            ]
        self.assertEqual(commissions(period), sorted(expected))
        # the run is idempotent: it replaces what it built
        Period.compute([period])
        self.assertEqual(commissions(period), sorted(expected))
        settlement, = Period(period.id).settlements
        self.assertEqual((settlement.dealer, settlement.state,
                settlement.total), (dealer, 'draft', D(40)))

    @with_transaction()
    def test_volume_tiers(self):
        "The highest tier reached pays per activation of the period"
        Period = Pool().get('telecom.commission.period')
        dealer, lines = self.dealer_lines(3)
        create_plan(dealer, [
                {'kind': 'volume_tier', 'min_activations': 2, 'amount': '5'},
                {'kind': 'volume_tier', 'min_activations': 3, 'amount': '8'},
                {'kind': 'volume_tier', 'min_activations': 10,
                    'amount': '12'},
                {'kind': 'volume_tier', 'min_activations': 2, 'amount': '1',
                    'product': "神州行 38元家园卡"},
                ])
        period = create_period(*month(today()))
        Period.compute([period])
        (kind, line, amount, reason), = commissions(period)
        self.assertEqual((kind, line, amount), ('volume_tier', None, D(24)))
        self.assertIn('3', reason)

    @with_transaction()
    def test_vas_bonus(self):
        "A bonus per value-added service the dealer sold"
        Period = Pool().get('telecom.commission.period')
        dealer, (line,) = self.dealer_lines(1, services=("彩铃", "来电显示"))
        create_plan(dealer, [
                {'kind': 'vas_bonus', 'product': "彩铃", 'amount': '3'},
                ])
        period = create_period(*month(today()))
        Period.compute([period])
        self.assertEqual(commissions(period),
            [('vas_bonus', line.rec_name, D(3), None)])

    @with_transaction()
    def test_instalments_while_active(self):
        "Instalments are paid month by month only while the line is active"
        Period = Pool().get('telecom.commission.period')
        dealer, (line,) = self.dealer_lines(1)
        create_plan(dealer, [
                {'kind': 'instalment', 'amount': '5', 'months': 3},
                ])
        first = month(today(), -3)[0]
        set_activation(line, first + dt.timedelta(days=4))
        periods = monthly_periods(first, 4)
        Period.compute(periods[:1])
        change(line, 'suspend', suspension_reason='customer_request')
        Period.compute(periods[1:2])
        change(line, 'resume')
        Period.compute(periods[2:])
        self.assertEqual(
            [[(c.kind, c.instalment, c.amount)
                    for c in Period(p.id).commissions] for p in periods],
            [[('instalment', 1, D(5))], [], [('instalment', 3, D(5))], []])

    @with_transaction()
    def test_revenue_share_paid_bills(self):
        "A share of the line's paid bills for its first months"
        Period = Pool().get('telecom.commission.period')
        dealer, (line,) = self.dealer_lines(1)
        create_plan(dealer, [
                {'kind': 'revenue_share', 'rate': '10', 'months': 2},
                ])
        first = month(today(), -3)[0]
        set_activation(line, first + dt.timedelta(days=4))
        bills = [bill_line(line, '18', month(first, 0)[0]),
            bill_line(line, '18', month(first, 1)[0], paid=False),
            bill_line(line, '18', month(first, 2)[0], paid=False)]
        self.assertEqual([b.state for b in bills],
            ['paid', 'issued', 'issued'])
        early = create_period(first, month(first, 1)[1])
        late = create_period(*month(first, 2))
        Period.compute([early])
        self.assertEqual(
            [(c.bill, c.base_amount, c.amount) for c in Period(
                    early.id).commissions],
            [(bills[0], D(18), D('1.80'))])
        # paid late, shared in the period it is found paid; the third
        # month is beyond the share's two months
        create_payment(line.account, '36')
        Period.compute([late])
        self.assertEqual(
            [(c.bill, c.amount) for c in Period(late.id).commissions],
            [(bills[1], D('1.80'))])

    def clawback_case(self, days, event, window=30):
        """A line activated days ago, paid in the period before, then
        event (a function of the line) today: the commissions of today's
        period"""
        Period = Pool().get('telecom.commission.period')
        dealer, (line,) = self.dealer_lines(1)
        create_plan(dealer, [{'kind': 'one_off', 'amount': '30'}],
            clawback_days=window)
        set_activation(line, today() - dt.timedelta(days=days))
        before = create_period(today() - dt.timedelta(days=90),
            today() - dt.timedelta(days=1), name="before")
        current = create_period(today(), today() + dt.timedelta(days=30),
            name="current")
        Period.compute([before])
        self.assertEqual(commissions(before),
            [('activation', line.rec_name, D(30), None)])
        event(line)
        Period.compute([current])
        # never twice, however often it runs
        Period.compute([current])
        return line, commissions(current)

    @with_transaction()
    def test_clawback_terminated_day_20(self):
        "A line terminated on day 20 gives its activation commission back"
        line, result = self.clawback_case(20,
            lambda l: change(l, 'terminate'))
        self.assertEqual(result, [('clawback', line.rec_name, D(-30),
                    "Terminated on day 20 after activation")])

    @with_transaction()
    def test_clawback_outside_window(self):
        "After the clawback days the commission stays"
        line, result = self.clawback_case(20,
            lambda l: change(l, 'terminate'), window=15)
        self.assertEqual(result, [])

    @with_transaction()
    def test_clawback_arrears(self):
        "A suspension for arrears within the window claws back"
        line, result = self.clawback_case(10,
            lambda l: change(l, 'suspend', suspension_reason='arrears'))
        self.assertEqual(result, [('clawback', line.rec_name, D(-30),
                    "Suspended for arrears on day 10 after activation")])

    @with_transaction()
    def test_clawback_fraud(self):
        "A line found fraudulent within the window claws back, once"
        def fraud_then_terminated(line):
            change(line, 'suspend', suspension_reason='fraud')
            change(line, 'terminate')
        line, result = self.clawback_case(5, fraud_then_terminated)
        self.assertEqual(result, [('clawback', line.rec_name, D(-30),
                    "Found fraudulent on day 5 after activation")])

    @with_transaction()
    def test_no_clawback_customer_suspension(self):
        "A suspension the customer asked for is no clawback"
        line, result = self.clawback_case(5,
            lambda l: change(l, 'suspend',
                suspension_reason='customer_request'))
        self.assertEqual(result, [])
