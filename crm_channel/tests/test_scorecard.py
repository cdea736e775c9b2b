"Dealer scorecards, star rating rules and the activations by channel"
import datetime as dt
import unittest
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction

from crm_channel.scorecard import month_start
from crm_channel.tests.tools import (
    allocate,
    as_user,
    create_dealer,
    create_dealer_user,
    sell,
)
from crm_service.tests.tools import as_user as as_staff
from crm_service.tests.tools import create_request, service_staff
from crm_telecom.tests.tools import (
    create_bill,
    setup_reference,
    usage,
    xlsx_report,
)

MONTH = dt.date(2026, 3, 1)
AS_OF = dt.date(2026, 9, 1)


def sold(outlet, first, dates, start=1):
    "Lines sold at the outlet, activated on the dates"
    Subscriber = Pool().get('telecom.subscriber')
    numbers = allocate(outlet, *('%d' % (first + i)
            for i in range(len(dates))))
    lines = []
    for i, (number, date) in enumerate(zip(numbers, dates)):
        line = sell(outlet, number, sequence=start + i)
        Subscriber.write([line], {'activation_date': date})
        lines.append(line)
    return lines


def bill_line(line, amount):
    BillLine = Pool().get('telecom.bill.line')
    bill = create_bill(line.account, amount, AS_OF)
    BillLine.create([{'bill': bill.id, 'subscriber': line.id,
                'kind': 'plan_fee', 'product': line.plan.id,
                'amount': Decimal(amount)}])


class ScorecardTestCase(unittest.TestCase):
    "Dealer scorecards and star ratings"

    @classmethod
    def setUpClass(cls):
        activate_module(['crm_channel', 'crm_service'])

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def setup_sales(self):
        """Dealer A sold 4 lines in March (one terminated after 30 days,
        one used in its first month, two billed, one complained about) and
        one in April; dealer B sold one line in March"""
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        Usage = pool.get('telecom.usage')
        setup_reference()
        first = create_dealer()
        second = create_dealer(name="深圳华强通信", code='GD-DL-0002')
        lines = sold(first.outlets[0], 13900000100, [
                dt.date(2026, 3, 1), dt.date(2026, 3, 10),
                dt.date(2026, 3, 20), dt.date(2026, 3, 31),
                dt.date(2026, 4, 1)])
        other, = sold(second.outlets[0], 13900000200, [dt.date(2026, 3, 5)],
            start=10)
        Subscriber.write([lines[1]], {'state': 'terminated',
                'termination_date': dt.date(2026, 4, 9)})
        Usage.create([
                usage(lines[0], 'voice', dt.datetime(2026, 3, 2, 9), 60),
                # after its first 30 days: not counted
                usage(lines[2], 'sms', dt.datetime(2026, 4, 25, 9)),
                ])
        # cents a float sum would not keep (SQLite)
        bill_line(lines[0], '10.10')
        bill_line(lines[2], '20.20')
        bill_line(lines[4], '99.00')
        staff, *_ = service_staff()
        with as_staff(staff):
            create_request(lines[3], type='complaint')
            create_request(lines[3], type='consultation')
        return first, second, lines, other

    @with_transaction()
    def test_scorecard_figures(self):
        "The month's figures of each dealer, from its March lines"
        Scorecard = Pool().get('telecom.dealer.scorecard')
        first, second, lines, other = self.setup_sales()
        Scorecard.compute(MONTH, as_of=AS_OF)
        cards = {c.dealer: c for c in Scorecard.search([])}
        self.assertEqual(set(cards), {first, second})
        card = cards[first]
        self.assertEqual(card.month, MONTH)
        self.assertEqual(
            (card.activations, card.still_active, card.active_share),
            (4, 3, Decimal('75.00')))
        self.assertEqual((card.matured, card.no_usage, card.no_usage_share),
            (4, 3, Decimal('75.00')))
        self.assertEqual((card.complaints, card.complaints_per_100),
            (1, Decimal('25.00')))
        self.assertEqual(card.revenue, Decimal('30.30'))
        card = cards[second]
        self.assertEqual((card.activations, card.active_share,
                card.no_usage_share, card.complaints, card.revenue),
            (1, Decimal('100.00'), Decimal('100.00'), 0, Decimal(0)))

    @with_transaction()
    def test_young_lines_not_judged_on_usage(self):
        "Lines whose first 30 days are not over are not counted unused"
        Scorecard = Pool().get('telecom.dealer.scorecard')
        first, second, lines, other = self.setup_sales()
        Scorecard.compute(MONTH, as_of=dt.date(2026, 4, 10))
        card, = Scorecard.search([('dealer', '=', first.id)])
        # activated on 1 and 10 March are past their first month
        self.assertEqual((card.matured, card.no_usage), (2, 1))
        self.assertEqual(card.no_usage_share, Decimal('50.00'))

    @with_transaction()
    def test_compute_again_replaces(self):
        "Computing a month again replaces its scorecards"
        Scorecard = Pool().get('telecom.dealer.scorecard')
        self.setup_sales()
        Scorecard.compute(MONTH, as_of=AS_OF)
        Scorecard.compute(dt.date(2026, 3, 15), as_of=AS_OF)
        self.assertEqual(Scorecard.search_count([]), 2)
        Scorecard.compute(dt.date(2026, 4, 1), as_of=AS_OF)
        self.assertEqual(Scorecard.search_count([]), 4)

    @with_transaction()
    def test_star_rules(self):
        "The first rule met, by sequence, gives the stars to the dealer"
        pool = Pool()
        Scorecard = pool.get('telecom.dealer.scorecard')
        StarRule = pool.get('telecom.dealer.star_rule')
        Agent = pool.get('commission.agent')
        first, second, lines, other = self.setup_sales()
        five, three, four, one = StarRule.create([
                {'sequence': 10, 'stars': '5', 'min_activations': 4,
                    'min_active_share': Decimal(90)},
                {'sequence': 20, 'stars': '3', 'min_activations': 2,
                    'max_complaints': Decimal(30)},
                # after the three stars: never reached by the first dealer
                {'sequence': 30, 'stars': '4', 'min_activations': 1,
                    'max_no_usage_share': Decimal(100)},
                {'sequence': 40, 'stars': '1'},
                ])
        Scorecard.compute(MONTH, as_of=AS_OF)
        cards = {c.dealer: c for c in Scorecard.search([])}
        self.assertEqual((cards[first].star_rating, cards[first].star_rule),
            ('3', three))
        self.assertEqual((cards[second].star_rating,
                cards[second].star_rule), ('4', four))
        self.assertEqual(Agent(first.id).star_rating, '3')
        self.assertEqual(Agent(second.id).star_rating, '4')

        # stricter rules: the second dealer's usage fails the four stars
        StarRule.write([four], {'max_no_usage_share': Decimal(50)})
        Scorecard.compute(MONTH, as_of=AS_OF)
        self.assertEqual(Agent(second.id).star_rating, '1')

        StarRule.delete([five, three, four, one])
        Scorecard.compute(MONTH, as_of=AS_OF)
        self.assertIsNone(Agent(first.id).star_rating)

    @with_transaction()
    def test_star_rule_match(self):
        "Minimums must be shown, unknown maximums hold"
        StarRule = Pool().get('telecom.dealer.star_rule')
        rule = StarRule(min_activations=None,
            min_active_share=Decimal(80), max_no_usage_share=Decimal(20),
            max_complaints=Decimal(5))
        card = {'activations': 10, 'active_share': Decimal(80),
            'no_usage_share': Decimal(20), 'complaints_per_100': Decimal(5)}
        self.assertTrue(rule.match(card))
        self.assertTrue(rule.match({**card, 'no_usage_share': None}))
        self.assertFalse(rule.match({**card, 'active_share': None}))
        self.assertFalse(rule.match({**card,
                    'active_share': Decimal('79.99')}))
        self.assertFalse(rule.match({**card,
                    'no_usage_share': Decimal('20.01')}))
        self.assertFalse(rule.match({**card,
                    'complaints_per_100': Decimal('5.01')}))

    @with_transaction()
    def test_wizard_and_cron(self):
        "The wizard computes the chosen month, the cron the last months"
        pool = Pool()
        Scorecard = pool.get('telecom.dealer.scorecard')
        Compute = pool.get('telecom.dealer.scorecard.compute', type='wizard')
        self.setup_sales()
        session_id, _, _ = Compute.create()
        wizard = Compute(session_id)
        wizard.start.month = dt.date(2026, 3, 17)
        wizard.transition_compute()
        self.assertEqual({c.month for c in Scorecard.search([])}, {MONTH})
        today = pool.get('ir.date').today()
        Scorecard.compute_monthly()
        self.assertEqual({c.month for c in Scorecard.search([])},
            {MONTH} | {month_start(today, i) for i in range(1, 5)})

    @with_transaction()
    def test_dealer_sees_own_scorecards(self):
        "A dealer's user reads only its dealer's scorecards"
        Scorecard = Pool().get('telecom.dealer.scorecard')
        first, second, lines, other = self.setup_sales()
        Scorecard.compute(MONTH, as_of=AS_OF)
        user = create_dealer_user('dealer_a', first)
        with as_user(user):
            cards = Scorecard.search([])
            self.assertEqual([c.dealer.id for c in cards], [first.id])

    @with_transaction()
    def test_activations_by_channel(self):
        "The graph model counts the activations of each channel by month"
        pool = Pool()
        Activation = pool.get('telecom.channel.activation')
        first, second, lines, other = self.setup_sales()
        context = {'from_month': dt.date(2026, 1, 1),
            'to_month': dt.date(2026, 6, 30)}
        with Transaction().set_context(context):
            rows = Activation.search([])
            counts = sorted((r.month, r.channel.code, r.activations,
                    r.still_active) for r in rows)
        self.assertEqual(counts, [
                (dt.date(2026, 3, 1), 'GD-DL-0001-01', 4, 3),
                (dt.date(2026, 3, 1), 'GD-DL-0002-01', 1, 1),
                (dt.date(2026, 4, 1), 'GD-DL-0001-01', 1, 1),
                ])
        with Transaction().set_context(context,
                to_month=dt.date(2026, 3, 1)):
            self.assertEqual(sum(r.activations
                    for r in Activation.search([])), 5)

    @with_transaction()
    def test_performance_excel(self):
        "The channel performance list: a row per channel and month"
        first, second, lines, other = self.setup_sales()
        sheet, rows = xlsx_report('telecom.channel.performance.xlsx',
            data={'from_month': '2026-03-01', 'to_month': '2026-04-30'})
        header = rows[2]
        self.assertEqual(header[0], "Month")
        self.assertIn("Activations", header)
        body = [r[:1] + r[2:3] + r[5:8] for r in rows[3:]]
        self.assertEqual(body, [
                ('2026-03', 'GD-DL-0001-01 广州迅达 1号店', 4, 3, 75),
                ('2026-03', 'GD-DL-0002-01 深圳华强 1号店', 1, 1, 100),
                ('2026-04', 'GD-DL-0001-01 广州迅达 1号店', 1, 1, 100),
                ])
