"""The generator (data/bulk.py) beside records created in the client: the
demo and the benchmarks stand on it"""
import datetime as dt
import unittest

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction

from crm_telecom import iccid
from crm_telecom.tests.tools import (
    BEFORE,
    CYCLE,
    create_account,
    create_customer,
    line_since,
    setup_reference,
)
from data.bulk import generate, generate_usage


def bill_cycle(period_start=CYCLE):
    BillRun = Pool().get('telecom.bill.run')
    runs = BillRun.search([('period_start', '=', period_start)])
    if not runs:
        runs = BillRun.create([{'period_start': period_start}])
    BillRun.process(runs, commit=False)


def bill_of(subscriber, period_start=CYCLE):
    Bill = Pool().get('telecom.bill')
    bill, = Bill.search([
            ('account', '=', subscriber.account.id),
            ('period_start', '=', period_start),
            ])
    return bill


class GeneratedCodesTestCase(unittest.TestCase):
    "Codes of generated accounts and customers"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    def generate(self, subscribers=30):
        setup_reference()
        return generate(subscribers, seed=5)

    @with_transaction()
    def test_account_after_generator(self):
        "An account created after the generator gets a code of its own"
        pool = Pool()
        Account = pool.get('telecom.account')
        Party = pool.get('party.party')
        self.generate()
        generated = {a.code for a in Account.search([])}
        self.assertEqual(len(generated), 20)
        payer, = Party.search([], limit=1)
        account = create_account(payer)
        self.assertTrue(account.code.startswith('A'))
        self.assertNotIn(account.code, generated)
        party = create_customer(name="李四")
        self.assertNotIn(party.code,
            {p.code for p in Party.search([('id', '!=', party.id)])})

    @with_transaction()
    def test_generated_premium_numbers_priced(self):
        "Premium numbers carry their fee; lines a valid SIM card"
        pool = Pool()
        Number = pool.get('telecom.number')
        Subscriber = pool.get('telecom.subscriber')
        self.generate(subscribers=300)
        numbers = Number.search([])
        premium = [n for n in numbers if n.grade == 'premium']
        self.assertTrue(premium)
        self.assertTrue(all(n.price and n.price > 0 for n in premium))
        self.assertTrue(all(n.price is None for n in numbers
                if n.grade == 'ordinary'))
        self.assertTrue(all(iccid.is_valid(s.iccid)
                for s in Subscriber.search([])))

    @with_transaction()
    def test_generator_moves_sequences(self):
        "The generator leaves the code sequences past what it wrote"
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        Account = pool.get('telecom.account')
        Party = pool.get('party.party')
        setup_reference()
        before = Configuration(1).account_sequence.number_next
        parties_before = Party._code_sequence().number_next
        self.generate()
        self.assertEqual(Configuration(1).account_sequence.number_next,
            before + 20)
        self.assertEqual(max(a.code for a in Account.search([])),
            'A%09d' % (before + 19))
        self.assertEqual(Party._code_sequence().number_next,
            parties_before + 20)
        self.assertEqual(max(int(p.code[1:]) for p in Party.search([])),
            parties_before + 19)



class GeneratedBillingTestCase(unittest.TestCase):
    "Generated lines, balances and usage billed with the client's"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_billing')

    @with_transaction()
    def test_generated_then_client(self):
        """Lines sold in the client after the generator ran are billed
        with codes of their own, next to the generated ones"""
        pool = Pool()
        Bill = pool.get('telecom.bill')
        Usage = pool.get('telecom.usage')
        Movement = pool.get('telecom.account.movement')
        setup_reference()
        generate(30, seed=4, cycle_day=CYCLE.day, today=dt.date(2026, 12, 1))
        self.assertEqual(generate_usage(300, CYCLE, seed=4),
            {'telecom_usage': 300})
        subscriber = line_since(BEFORE)
        bill_cycle()
        codes = [b.code for b in Bill.search([])]
        self.assertEqual(len(codes), 21)
        self.assertEqual(len(set(codes)), 21)
        self.assertIn(bill_of(subscriber).code, codes)
        self.assertEqual(Usage.search_count([('bill_line', '=', None)]), 0)
        Movement.check_balances()

    @with_transaction()
    def test_generated_balances_have_movements(self):
        "The demo and bench generator keeps every balance explained"
        Movement = Pool().get('telecom.account.movement')
        setup_reference()
        generate(60, seed=3)
        self.assertTrue(Movement.search_count([]))
        Movement.check_balances()
