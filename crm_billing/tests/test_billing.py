"Rating, bill runs and adjustments"
import datetime as dt
import unittest
from decimal import Decimal as D
from unittest.mock import patch

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model.exceptions import SQLConstraintError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.tools import (
    BEFORE,
    CYCLE,
    at,
    line_since,
    load_chinese,
    setup_reference,
    usage,
)


class BillingTestCase(unittest.TestCase):
    "Rating and bill runs"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_billing')

    def line(self, plan="神州行 18元畅聊卡", number='13800138000',
            since=BEFORE, customer=None, account=None):
        return line_since(since, number=number, plan=plan,
            customer=customer, account=account)

    def products(self):
        return setup_reference()[2]

    def bill_cycle(self, period_start=CYCLE):
        pool = Pool()
        BillRun = pool.get('telecom.bill.run')
        runs = BillRun.search([('period_start', '=', period_start)])
        if not runs:
            runs = BillRun.create([{'period_start': period_start}])
        BillRun.process(runs, commit=False)
        return runs[0]

    def bill_of(self, subscriber, period_start=CYCLE):
        Bill = Pool().get('telecom.bill')
        bill, = Bill.search([
                ('account', '=', subscriber.account.id),
                ('period_start', '=', period_start),
                ])
        return bill

    def lines(self, bill, kind):
        return [l for l in bill.lines if l.kind == kind]

    @with_transaction()
    def test_plan_history_from_orders(self):
        "Activation, immediate plan change and termination write the history"
        pool = Pool()
        Order = pool.get('telecom.order')
        from crm_telecom.tests.tools import order
        products = self.products()
        today = pool.get('ir.date').today()
        subscriber = self.line(since=today)
        change = order('change_plan', subscriber,
            plan=products["神州行 8元保号套餐"].id)
        Order.process([change])
        periods = sorted(subscriber.plan_periods, key=lambda p: p.id)
        self.assertEqual([p.plan.name for p in periods],
            ["神州行 18元畅聊卡", "神州行 8元保号套餐"])
        self.assertEqual(periods[0].end_date, today)
        self.assertEqual(periods[1].start_date, today)
        Order.process([order('terminate', subscriber)])
        self.assertEqual(periods[1].__class__(periods[1].id).end_date,
            today + dt.timedelta(days=1))

    @with_transaction()
    def test_allowance_exactly_used(self):
        "100 included minutes used to the last one cost nothing more"
        Usage = Pool().get('telecom.usage')
        subscriber = self.line()
        # 99 minutes and 60 seconds: exactly the 100 included minutes
        Usage.create([usage(subscriber, 'voice', at(3), duration=99 * 60),
                usage(subscriber, 'voice', at(4), duration=60)])
        self.bill_cycle()
        bill = self.bill_of(subscriber)
        voice, = self.lines(bill, 'voice')
        self.assertEqual((voice.quantity, voice.included, voice.billable),
            (100, 100, 0))
        self.assertEqual(voice.amount, D('0'))
        self.assertEqual(bill.amount, D('18.00'))
        self.assertEqual(len(voice.usages), 2)
        self.assertEqual(voice.description,
            "Voice 100 min, all within the allowances")

    @with_transaction()
    def test_overage_per_started_minute(self):
        "One second over the allowance costs a whole minute"
        Usage = Pool().get('telecom.usage')
        subscriber = self.line()
        Usage.create([usage(subscriber, 'voice', at(3), duration=100 * 60),
                usage(subscriber, 'voice', at(5), duration=36 * 60 + 1)])
        self.bill_cycle()
        voice, = self.lines(self.bill_of(subscriber), 'voice')
        self.assertEqual((voice.quantity, voice.billable), (137, 37))
        self.assertEqual(voice.amount, D('7.03'))
        self.assertTrue(voice.description.startswith(
                "Voice beyond plan 37 min × 0.19 yuan = 7.03 yuan"),
            voice.description)

    @with_transaction()
    def test_data_and_sms_overage(self):
        "Data beyond the allowance is charged per started MB"
        Usage = Pool().get('telecom.usage')
        subscriber = self.line()
        # 1024 MB included; 1 KB over is one MB
        Usage.create([usage(subscriber, 'data', at(3), volume=1024 * 1024),
                usage(subscriber, 'data', at(4), volume=1)]
            + [usage(subscriber, 'sms', at(5, minute=m)) for m in range(52)])
        self.bill_cycle()
        bill = self.bill_of(subscriber)
        data, = self.lines(bill, 'data')
        sms, = self.lines(bill, 'sms')
        self.assertEqual((data.billable, data.amount), (1, D('0.05')))
        self.assertEqual((sms.quantity, sms.billable, sms.amount),
            (52, 2, D('0.20')))

    @with_transaction()
    def test_addon_after_plan(self):
        "An add-on's minutes are used after the plan's"
        pool = Pool()
        Usage = pool.get('telecom.usage')
        Service = pool.get('telecom.subscriber.service')
        products = self.products()
        subscriber = self.line()
        Service.create([{'subscriber': subscriber.id,
                    'product': products["语音包 15元100分钟"].id,
                    'start_date': BEFORE}])
        Usage.create([usage(subscriber, 'voice', at(3), duration=230 * 60)])
        self.bill_cycle()
        bill = self.bill_of(subscriber)
        voice, = self.lines(bill, 'voice')
        self.assertEqual(
            (voice.included, voice.addon_included, voice.billable),
            (100, 100, 30))
        self.assertEqual(voice.amount, D('5.70'))
        addon, = self.lines(bill, 'addon_fee')
        self.assertEqual(addon.amount, D('15.00'))
        self.assertEqual(bill.amount, D('38.70'))

    @with_transaction()
    def test_proration_across_plan_change(self):
        "Half a cycle on each plan: fees and allowances split by days"
        pool = Pool()
        Usage = pool.get('telecom.usage')
        PlanPeriod = pool.get('telecom.subscriber.plan')
        Subscriber = pool.get('telecom.subscriber')
        products = self.products()
        subscriber = self.line(plan="神州行 38元家园卡")
        # the 18 yuan plan (100 minutes) from the 16th
        PlanPeriod.change([(subscriber, products["神州行 18元畅聊卡"],
                    dt.date(2026, 11, 16))])
        subscriber = Subscriber(subscriber.id)
        # 38 plan: 200 min × 15/30 = 100; 18 plan: 100 × 15/30 = 50
        Usage.create([usage(subscriber, 'voice', at(10), duration=110 * 60),
                usage(subscriber, 'voice', at(20), duration=50 * 60)])
        self.bill_cycle()
        bill = self.bill_of(subscriber)
        fees = sorted(self.lines(bill, 'plan_fee'), key=lambda l: l.start_date)
        self.assertEqual([(f.days, f.amount) for f in fees],
            [(15, D('19.00')), (15, D('9.00'))])
        self.assertIn("× 15/30 days = 19.00 yuan", fees[0].description)
        voices = sorted(self.lines(bill, 'voice'), key=lambda l: l.start_date)
        self.assertEqual([(v.included, v.billable) for v in voices],
            [(100, 10), (50, 0)])
        self.assertEqual(bill.amount, D('19.00') + D('9.00') + D('1.90'))

    @with_transaction()
    def test_activation_inside_cycle(self):
        "A line that starts on the 21st pays 10 days of 30"
        pool = Pool()
        Usage = pool.get('telecom.usage')
        Service = pool.get('telecom.subscriber.service')
        products = self.products()
        subscriber = self.line(since=dt.date(2026, 11, 21))
        Service.create([{'subscriber': subscriber.id,
                    'product': products["咪咕视频会员"].id,
                    'start_date': dt.date(2026, 11, 26)}])
        # 100 × 10/30 = 33 minutes included
        Usage.create([usage(subscriber, 'voice', at(22), duration=34 * 60)])
        self.bill_cycle()
        bill = self.bill_of(subscriber)
        fee, = self.lines(bill, 'plan_fee')
        self.assertEqual((fee.days, fee.amount), (10, D('6.00')))
        vas, = self.lines(bill, 'vas_fee')
        self.assertEqual((vas.days, vas.amount), (5, D('2.50')))
        voice, = self.lines(bill, 'voice')
        self.assertEqual((voice.included, voice.billable), (33, 1))

    @with_transaction()
    def test_roaming_and_prerated(self):
        "Roaming never draws on allowances; pre-rated records keep their price"
        Usage = Pool().get('telecom.usage')
        subscriber = self.line()
        Usage.create([
                usage(subscriber, 'voice', at(3), duration=12 * 60,
                    roaming=True),
                usage(subscriber, 'voice', at(4), duration=5 * 60),
                usage(subscriber, 'sms', at(4), charge=D('1.50')),
                usage(subscriber, 'sms', at(5), charge=D('0.50')),
                ])
        self.bill_cycle()
        bill = self.bill_of(subscriber)
        roaming, = self.lines(bill, 'roaming_voice')
        self.assertEqual((roaming.billable, roaming.amount),
            (12, D('11.88')))
        self.assertEqual(roaming.description,
            "Roaming Voice 12 min × 0.99 yuan = 11.88 yuan")
        voice, = self.lines(bill, 'voice')
        self.assertEqual((voice.included, voice.amount), (5, D('0')))
        rated, = self.lines(bill, 'rated_sms')
        self.assertEqual((rated.billable, rated.amount), (2, D('2.00')))
        self.assertEqual(len(rated.usages), 2)
        self.assertEqual(bill.amount, D('18.00') + D('11.88') + D('2.00'))

    @with_transaction()
    def test_rerun_changes_nothing(self):
        "A second run of the same cycle bills nothing again"
        pool = Pool()
        Bill = pool.get('telecom.bill')
        Line = pool.get('telecom.bill.line')
        Usage = pool.get('telecom.usage')
        Movement = pool.get('telecom.account.movement')
        subscriber = self.line()
        other = self.line(number='13800138001')
        Usage.create([usage(subscriber, 'voice', at(3), duration=150 * 60)])
        run = self.bill_cycle()
        self.assertEqual((run.state, run.accounts_done, run.accounts_total),
            ('done', 2, 2))
        snapshot = (Bill.search_count([]), Line.search_count([]),
            Movement.search_count([]),
            [(a.id, a.balance) for a in (subscriber.account, other.account)])
        self.bill_cycle()
        pool.get('telecom.bill.run').process([run], commit=False)
        Account = pool.get('telecom.account')
        self.assertEqual(snapshot, (Bill.search_count([]),
                Line.search_count([]), Movement.search_count([]),
                [(a.id, Account(a.id).balance)
                    for a in (subscriber.account, other.account)]))
        self.assertEqual(Account(subscriber.account.id).balance,
            D('-27.50'))
        self.assertEqual(Usage.search_count([('bill_line', '=', None)]), 0)
        Movement.check_balances()

    @with_transaction()
    def test_crash_then_resume(self):
        "A batch that dies leaves no trace; the run then goes on"
        pool = Pool()
        BillRun = pool.get('telecom.bill.run')
        Bill = pool.get('telecom.bill')
        Usage = pool.get('telecom.usage')
        Movement = pool.get('telecom.account.movement')
        from crm_billing import rating
        from crm_telecom.sql_tools import clear_cache
        lines = [self.line(number='1380013800%s' % i) for i in range(5)]
        Usage.create([usage(s, 'voice', at(3), duration=(101 + i) * 60)
                for i, s in enumerate(lines)])
        run, = BillRun.create([{'period_start': CYCLE}])
        BillRun._prepare([run])
        self.assertEqual(run.bill_batch(2), 2)

        cursor = Transaction().connection.cursor()
        cursor.execute('SAVEPOINT before_crash')
        original = rating.Rating.bill

        def crash(self, *args, **kwargs):
            original(self, *args, **kwargs)
            raise RuntimeError("server killed")
        with patch.object(rating.Rating, 'bill', crash):
            with self.assertRaises(RuntimeError):
                run.bill_batch(2)
        cursor.execute('ROLLBACK TO SAVEPOINT before_crash')
        for Model in [BillRun, Bill, Usage, pool.get('telecom.account')]:
            clear_cache(Model)
        self.assertEqual(Bill.search_count([]), 2)

        run = BillRun(run.id)
        BillRun.process([run], commit=False)
        run = BillRun(run.id)
        self.assertEqual((run.state, run.accounts_done), ('done', 5))
        self.assertEqual(Bill.search_count([]), 5)
        self.assertEqual(sorted(b.amount for b in Bill.search([])),
            [D('18.19'), D('18.38'), D('18.57'), D('18.76'), D('18.95')])
        self.assertEqual(Usage.search_count([('bill_line', '=', None)]), 0)
        Movement.check_balances()

    @with_transaction()
    def test_bill_run_start_queues(self):
        "The Start button counts the accounts and hands the run to the queue"
        pool = Pool()
        BillRun = pool.get('telecom.bill.run')
        Queue = pool.get('ir.queue')
        self.line()
        run, = BillRun.create([{'period_start': CYCLE}])
        BillRun.start([run])
        self.assertEqual((run.state, run.accounts_total, run.progress),
            ('running', 1, 0.0))
        task, = Queue.search([])
        self.assertEqual((task.data['model'], task.data['method']),
            ('telecom.bill.run', 'bill_slice'))

    @with_transaction()
    def test_bill_run_slices(self):
        """Started from the client, a run is a queue task per slice of
        accounts; the workers take them in any order and the last one done
        finishes the run"""
        pool = Pool()
        BillRun = pool.get('telecom.bill.run')
        Bill = pool.get('telecom.bill')
        Queue = pool.get('ir.queue')
        Movement = pool.get('telecom.account.movement')
        for i in range(5):
            self.line(number='1380013800%s' % i)
        run, = BillRun.create([{'period_start': CYCLE}])
        with patch('crm_billing.bill_run.BATCH_SIZE', 2):
            BillRun.start([run])
            tasks = Queue.search([], order=[('id', 'DESC')])
            # slices of two accounts, by account id
            self.assertEqual(len(tasks), 3)
            self.assertEqual(list(sorted(t.data['args'] for t in tasks)[0]),
                sorted(l.account.id for l in pool.get(
                            'telecom.subscriber').search([]))[:2])
            # commits are the queue's; in a test, the transaction stays open
            with patch.object(Transaction, 'commit', lambda self: None):
                for task in tasks:
                    self.assertEqual(BillRun(run.id).state, 'running')
                    task.run()
        run = BillRun(run.id)
        self.assertEqual((run.state, run.accounts_done, run.progress),
            ('done', 5, 1.0))
        self.assertEqual(Bill.search_count([('run', '=', run.id)]), 5)
        # a slice run again (the queue retrying it) bills nothing twice
        with patch.object(Transaction, 'commit', lambda self: None):
            tasks[0].run()
        self.assertEqual(Bill.search_count([]), 5)
        Movement.check_balances()

    @with_transaction()
    def test_run_due_from_cron(self):
        "The daily cron bills the cycle that ended yesterday"
        BillRun = Pool().get('telecom.bill.run')
        subscriber = self.line()
        runs = BillRun.run_due(date=dt.date(2026, 12, 1), commit=False)
        self.assertEqual([r.period_start for r in runs], [CYCLE])
        self.assertEqual(self.bill_of(subscriber).amount, D('18.00'))
        self.assertEqual(BillRun.run_due(date=dt.date(2026, 12, 30)), [])
        with self.assertRaises(UserError):
            BillRun.create([{'period_start': dt.date(2026, 11, 30)}])

    @with_transaction()
    def test_adjustments(self):
        "Credits and debits land on the next bill; large ones need approval"
        pool = Pool()
        Adjustment = pool.get('telecom.bill.adjustment')
        User = pool.get('res.user')
        subscriber = self.line()
        account = subscriber.account
        small, large = Adjustment.create([
                {'account': account.id, 'amount': D('-10.00'),
                    'reason': "网络故障补偿"},
                {'account': account.id, 'amount': D('-150.00'),
                    'reason': "Wrong roaming charge"},
                ])
        with self.assertRaises(UserError):
            Adjustment.create([{'account': account.id, 'amount': 0,
                        'reason': "nothing"}])
        clerk, approver = User.create([{'login': 'clerk_adj'},
                {'login': 'approver_adj'}])
        with Transaction().set_user(clerk.id):
            Adjustment.confirm([small, large])
        self.assertEqual((small.state, large.state), ('approved', 'waiting'))
        with Transaction().set_user(clerk.id), self.assertRaises(UserError):
            Adjustment.approve([large])
        self.bill_cycle()
        bill = self.bill_of(subscriber)
        line, = self.lines(bill, 'adjustment')
        self.assertEqual(line.amount, D('-10.00'))
        self.assertEqual(line.description, "Adjustment: 网络故障补偿 -10.00 yuan")
        self.assertEqual(Adjustment(small.id).bill, bill)
        self.assertEqual(bill.amount, D('8.00'))

        with Transaction().set_user(approver.id):
            Adjustment.approve([large])
        self.assertEqual(Adjustment(large.id).approved_by, approver)
        self.bill_cycle(dt.date(2026, 12, 1))
        december = self.bill_of(subscriber, dt.date(2026, 12, 1))
        line, = self.lines(december, 'adjustment')
        self.assertEqual(line.amount, D('-150.00'))

    @with_transaction()
    def test_bill_lines_in_chinese(self):
        "The bill explains itself in the operator's language"
        pool = Pool()
        Usage = pool.get('telecom.usage')
        Line = pool.get('telecom.bill.line')
        load_chinese('crm_billing')
        subscriber = self.line()
        Usage.create([usage(subscriber, 'voice', at(3), duration=100 * 60),
                usage(subscriber, 'voice', at(5), duration=36 * 60 + 1),
                usage(subscriber, 'sms', at(6))])
        self.bill_cycle()
        bill = self.bill_of(subscriber)
        with Transaction().set_context(language='zh_CN'):
            lines = {l.kind: l.description
                for l in Line.browse([l.id for l in bill.lines])}
        self.assertEqual(lines['voice'],
            "套餐外语音 37 分钟 × 0.19 元 = 7.03 元"
            "（共 137 分钟，套餐内 100，加油包内 0）")
        self.assertEqual(lines['sms'], "短信 1 条，均在套餐内，不另收费")
        self.assertEqual(lines['plan_fee'], "套餐月费 神州行 18元畅聊卡 = 18.00 元")

    @with_transaction()
    def test_bill_code_unique(self):
        "Bill codes are unique, enforced by the database"
        Bill = Pool().get('telecom.bill')
        first = self.line()
        second = self.line(number='13800138001')
        self.bill_cycle()
        first, second = self.bill_of(first), self.bill_of(second)
        self.assertEqual(first.code, 'B202611-' + first.account.code)
        self.assertNotEqual(first.code, second.code)
        message = gettext('crm_billing.msg_bill_code_unique')
        with self.assertRaises(SQLConstraintError) as cm:
            Bill.write([second], {'code': first.code})
        self.assertEqual(cm.exception.message, message)

    @with_transaction()
    def test_bill_line_references(self):
        """A bill line's references are the ORM's to keep, not checked
        row by row by the database: a plan on a bill cannot be deleted,
        deleting a bill deletes its lines"""
        pool = Pool()
        Bill = pool.get('telecom.bill')
        Line = pool.get('telecom.bill.line')
        Template = pool.get('product.template')
        subscriber = self.line()
        self.bill_cycle()
        bill = self.bill_of(subscriber)
        plan_fee, = self.lines(bill, 'plan_fee')
        line_ids = [l.id for l in bill.lines]
        table = Line.__table_handler__()
        for column in Line._unchecked_references:
            self.assertNotIn('telecom_bill_line_%s_fkey' % column,
                getattr(table, '_constraints', []))
        with self.assertRaises(UserError):
            Template.delete([plan_fee.product])
        Bill.delete([bill])
        self.assertEqual(Line.search([('id', 'in', line_ids)]), [])

    @with_transaction()
    def test_late_usage_on_next_bill(self):
        """Usage that arrives after its cycle was billed is charged on the
        next bill, once, with what its cycle left of the allowance"""
        pool = Pool()
        Usage = pool.get('telecom.usage')
        Line = pool.get('telecom.bill.line')
        Movement = pool.get('telecom.account.movement')
        december, january = dt.date(2026, 12, 1), dt.date(2027, 1, 1)
        subscriber = self.line()
        on_time, = Usage.create([
                usage(subscriber, 'voice', at(3), duration=90 * 60)])
        self.bill_cycle()
        november_voice, = self.lines(self.bill_of(subscriber), 'voice')
        self.assertEqual((november_voice.quantity, november_voice.amount),
            (90, D('0')))

        # a switch sends November's last calls with December's first
        late, current = Usage.create([
                usage(subscriber, 'voice', at(20), duration=25 * 60),
                usage(subscriber, 'voice',
                    dt.datetime(2026, 12, 5, 9), duration=5 * 60)])
        self.assertEqual(Usage.search_count([('bill_line', '=', None)]), 2)
        self.bill_cycle(december)
        bill = self.bill_of(subscriber, december)
        late_line, = [l for l in bill.lines if l.late]
        regular, = [l for l in bill.lines if l.kind == 'voice'
            and not l.late]
        # 10 of the plan's 100 minutes were left in November
        self.assertEqual((late_line.kind, late_line.quantity,
                late_line.included, late_line.billable, late_line.amount),
            ('voice', 25, 10, 15, D('2.85')))
        self.assertEqual((late_line.start_date, late_line.end_date),
            (CYCLE, december))
        self.assertEqual(regular.quantity, 5)
        self.assertEqual(bill.amount, D('20.85'))
        self.assertTrue(late_line.description.startswith(
                "Late usage of 2026-11-01 ~ 2026-11-30: "
                "Voice beyond plan 15 min × 0.19 yuan = 2.85 yuan"),
            late_line.description)
        # why was I charged: each line shows the records it charged
        self.assertEqual(list(Line(november_voice.id).usages), [on_time])
        self.assertEqual(list(late_line.usages), [late])
        self.assertEqual(list(regular.usages), [current])
        self.assertEqual(Usage(late.id).bill_line, late_line)
        self.assertEqual(Usage.search([('bill_line', '=', late_line.id)]),
            [late])
        self.assertEqual(Usage.search([('bill_line.bill', '=', bill.id)]),
            [current, late])
        self.assertEqual(Usage.search_count([('billed', '=', False)]), 0)

        # billing December again changes nothing
        snapshot = [(l.id, l.amount) for l in bill.lines]
        self.bill_cycle(december)
        self.assertEqual([(l.id, l.amount)
                for l in self.bill_of(subscriber, december).lines], snapshot)

        # later still: nothing is left of November's allowance
        later, = Usage.create([
                usage(subscriber, 'voice', at(28), duration=2 * 60)])
        self.bill_cycle(january)
        late_line, = [l for l in self.bill_of(subscriber, january).lines
            if l.late]
        self.assertEqual((late_line.quantity, late_line.included,
                late_line.amount), (2, 0, D('0.38')))
        self.assertEqual(list(late_line.usages), [later])
        # each record charged by exactly one line
        self.assertEqual(sorted(len(Line.search([('usages', '=', u.id)]))
                for u in Usage.search([])), [1, 1, 1, 1])
        Movement.check_balances()
