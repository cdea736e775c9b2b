"Payments, balances, dunning, suspension for arrears and restoration"
import datetime as dt
import functools
import unittest
from decimal import Decimal as D
from unittest.mock import patch

from trytond.model.exceptions import (
    AccessButtonError,
    AccessError,
    SQLConstraintError,
)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction

from crm_billing.exceptions import BalanceError, PaymentError
from crm_dunning import sms
from crm_dunning.exceptions import DunningError
from crm_telecom.tests.tools import (
    activation,
    create_account,
    create_bill,
    create_customer,
    create_numbers,
    create_payment,
    create_staff,
    load_chinese,
    order,
    setup_reference,
    xlsx_report,
)


def scenario(func):
    """A test in one rolled-back transaction, after which every balance
    must still be the sum of its movements"""
    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        result = func(self, *args, **kwargs)
        Pool().get('telecom.account.movement').check_balances()
        return result
    return with_transaction()(wrapper)


def network_waits():
    "Orders submitted meanwhile wait for the network's acknowledgement"
    return patch.object(Pool().get('telecom.order'), '_acknowledged_at_once',
        classmethod(lambda cls, orders: []))


def today():
    return Pool().get('ir.date').today()


def days_ago(days):
    return today() - dt.timedelta(days=days)


class PaymentTestCase(unittest.TestCase):
    "Payments, dunning and restoration"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_dunning')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def setUp(self):
        super().setUp()
        # every SMS the dunning sends, whether or not an outbox exists
        self.messages = []
        real = sms.notify

        def record(messages):
            self.messages.extend(messages)
            return real(messages)
        patcher = patch.object(sms, 'notify', side_effect=record)
        patcher.start()
        self.addCleanup(patcher.stop)

    # --- fixtures ---------------------------------------------------------

    def line(self, number='13800138000', payment_type='postpaid',
            account=None, services=(), sequence=None):
        "An active line on its own account, with value-added services"
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        customer = (account.payer if account else create_customer(
                sequence=sequence or int(number[-3:]) + 1))
        account = account or create_account(customer,
            payment_type=payment_type)
        number, = create_numbers(number)
        activate = activation(customer, number, brands['SZX'],
            products["神州行 18元畅聊卡"], account=account)
        Order.process([activate])
        subscriber = activate.subscriber
        adds = [order('add_service', subscriber, service=products[name])
            for name in services]
        Order.process(adds)
        self.assertEqual(
            [o.state for o in [activate] + adds], ['done'] * (len(adds) + 1))
        return subscriber

    def sms(self, event):
        return [m for m in self.messages if m['event'] == event]

    def outbox(self):
        try:
            return Pool().get('telecom.provisioning.request')
        except KeyError:
            return None

    def reload(self, *records):
        return [r.__class__(r.id) for r in records]

    # --- payments ---------------------------------------------------------

    @scenario
    def test_payment_and_top_up_move_balance(self):
        "Payments and top-ups add to the balance through movements"
        pool = Pool()
        Movement = pool.get('telecom.account.movement')
        postpaid = create_account(create_customer(sequence=1),
            payment_type='postpaid')
        prepaid = create_account(create_customer(sequence=2),
            payment_type='prepaid')
        payment = create_payment(postpaid, '100', channel='bank',
            method='bank_transfer', reference='B-1')
        top_up = create_payment(prepaid, '30', channel='app',
            method='wechat')
        self.assertEqual(payment.kind, 'payment')
        self.assertEqual(top_up.kind, 'top_up')
        self.assertEqual(payment.payer, postpaid.payer)
        self.assertEqual([payment.state, top_up.state], ['posted'] * 2)
        self.assertTrue(payment.code)
        self.assertIsNotNone(payment.posted_at)
        postpaid, prepaid = self.reload(postpaid, prepaid)
        self.assertEqual(postpaid.balance, D('100'))
        self.assertEqual(prepaid.balance, D('30'))
        movement, = Movement.search([('origin', '=', str(top_up))])
        self.assertEqual((movement.kind, movement.amount),
            ('top_up', D('30')))
        Movement.check_balances()

    @scenario
    def test_post_twice_credits_once(self):
        "Posting an already posted payment does nothing"
        pool = Pool()
        Payment = pool.get('telecom.payment')
        account = create_account(create_customer(), payment_type='prepaid')
        payment = create_payment(account, '50')
        Payment.post([payment])
        account, = self.reload(account)
        self.assertEqual(account.balance, D('50'))

    @scenario
    def test_reversal(self):
        "A reversal needs a reason and takes the money back"
        pool = Pool()
        Payment = pool.get('telecom.payment')
        Movement = pool.get('telecom.account.movement')
        account = create_account(create_customer(), payment_type='prepaid')
        payment = create_payment(account, '80')
        for reason in ['', '   ', None]:
            with self.assertRaises(PaymentError) as cm:
                Payment.post_reversal([payment], reason)
            self.assertIn('reason', cm.exception.message)
        self.assertEqual(payment.state, 'posted')

        Payment.post_reversal([payment], "Bounced card payment")
        self.assertEqual(payment.state, 'reversed')
        self.assertEqual(payment.reversal_reason, "Bounced card payment")
        self.assertIsNotNone(payment.reversed_at)
        account, = self.reload(account)
        self.assertEqual(account.balance, D('0'))
        reversal, = Movement.search([
                ('origin', '=', str(payment)), ('kind', '=', 'reversal')])
        self.assertEqual(reversal.amount, D('-80'))
        Movement.check_balances()

        # only posted payments, and only once
        with self.assertRaises(PaymentError):
            Payment.post_reversal([payment], "again")
        draft = create_payment(account, '10', post=False)
        with self.assertRaises(PaymentError):
            Payment.post_reversal([draft], "not posted")

    @scenario
    def test_reverse_wizard(self):
        "The wizard passes the reason; billing operators may use it"
        pool = Pool()
        Wizard = pool.get('telecom.payment.reverse', type='wizard')
        account = create_account(create_customer(), payment_type='prepaid')
        payment = create_payment(account, '20')
        with Transaction().set_context(
                active_model='telecom.payment', active_id=payment.id,
                active_ids=[payment.id]):
            session_id, _, _ = Wizard.create()
            Wizard.execute(session_id, {'start': {'reason': "Duplicate"}},
                'reverse')
        payment, = self.reload(payment)
        self.assertEqual(payment.state, 'reversed')
        self.assertEqual(payment.reversal_reason, "Duplicate")

    @scenario
    def test_reverse_restricted(self):
        "Clerks post payments; only billing operators reverse them"
        pool = Pool()
        User = pool.get('res.user')
        Payment = pool.get('telecom.payment')
        ModelData = pool.get('ir.model.data')
        account = create_account(create_customer(), payment_type='prepaid')
        clerk, billing = User.create([
                {'login': 'clerk', 'groups': [('add', [ModelData.get_id(
                                    'crm_telecom', 'group_clerk')])]},
                {'login': 'billing', 'groups': [('add', [ModelData.get_id(
                                    'crm_telecom', 'group_billing')])]},
                ])
        with Transaction().set_user(clerk.id), \
                Transaction().set_context(_check_access=True):
            payment, = Payment.create([{
                        'account': account.id, 'amount': D('15'),
                        'channel': 'business_hall', 'method': 'cash'}])
            Payment.post([payment])
            self.assertEqual(payment.state, 'posted')
            with self.assertRaises(AccessButtonError):
                Payment.reverse([payment])
        with Transaction().set_user(billing.id), \
                Transaction().set_context(_check_access=True):
            action = Payment.reverse([Payment(payment.id)])
            self.assertTrue(action)

    @scenario
    def test_posted_payment_kept(self):
        "A posted payment cannot be changed or deleted"
        pool = Pool()
        Payment = pool.get('telecom.payment')
        account = create_account(create_customer(), payment_type='prepaid')
        payment = create_payment(account, '10')
        with self.assertRaises(PaymentError):
            Payment.write([payment], {'amount': D('1000')})
        with self.assertRaises(PaymentError):
            Payment.delete([payment])
        draft = create_payment(account, '10', post=False)
        Payment.write([draft], {'amount': D('12')})
        Payment.delete([draft])
        # a copy is a new draft that has moved no money
        copy, = Payment.copy([payment])
        self.assertEqual(copy.state, 'draft')
        self.assertNotEqual(copy.code, payment.code)
        self.assertIsNone(copy.posted_at)
        account, = self.reload(account)
        self.assertEqual(account.balance, D('10'))

    @scenario
    def test_duplicate_reference_refused(self):
        "A gateway calling twice cannot credit twice"
        pool = Pool()
        Payment = pool.get('telecom.payment')
        account = create_account(create_customer(), payment_type='prepaid')
        create_payment(account, '50', channel='online', method='alipay',
            reference='ALI-20260101-0001')
        with self.assertRaises(PaymentError) as cm:
            create_payment(account, '50', channel='online', method='alipay',
                reference=' ALI-20260101-0001 ')
        self.assertIn('ALI-20260101-0001', cm.exception.message)
        with self.assertRaises(PaymentError):
            Payment.create([
                    {'account': account.id, 'amount': D('1'),
                        'channel': 'app', 'reference': 'X-1'},
                    {'account': account.id, 'amount': D('1'),
                        'channel': 'app', 'reference': 'X-1'},
                    ])
        # another channel may reuse it; blank references are no reference
        create_payment(account, '50', channel='bank',
            reference='ALI-20260101-0001')
        create_payment(account, '5', reference='')
        create_payment(account, '5', reference='')
        draft = create_payment(account, '5', channel='online', post=False)
        with self.assertRaises(PaymentError):
            Payment.write([draft], {'reference': 'ALI-20260101-0001'})
        account, = self.reload(account)
        self.assertEqual(account.balance, D('110'))

    @scenario
    def test_amount_must_be_positive(self):
        account = create_account(create_customer(), payment_type='prepaid')
        for amount in ['0', '-5']:
            with self.assertRaises(PaymentError) as cm:
                create_payment(account, amount, post=False)
            self.assertIn('greater than zero', cm.exception.message)

    @scenario
    def test_tampered_balance_detected(self):
        "check_balances fails when a balance is changed behind the ledger"
        pool = Pool()
        Account = pool.get('telecom.account')
        Movement = pool.get('telecom.account.movement')
        account = create_account(create_customer(), payment_type='prepaid')
        create_payment(account, '25')
        Movement.check_balances()
        table = Account.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update([table.balance], [D('125')],
                where=table.id == account.id))
        with self.assertRaises(BalanceError) as cm:
            Movement.check_balances()
        self.assertIn('125', cm.exception.message)
        self.assertEqual(Movement.balance_mismatches(),
            [(account.id, D('125'), D('25'))])
        # put it back so the final check of the test holds
        Movement.update_balances([account.id])
        Movement.check_balances()

    # --- bills paid oldest first -------------------------------------------

    @scenario
    def test_bills_paid_oldest_first(self):
        pool = Pool()
        Account = pool.get('telecom.account')
        Payment = pool.get('telecom.payment')
        account = create_account(create_customer(), payment_type='postpaid')
        old = create_bill(account, '60', days_ago(40))
        new = create_bill(account, '40', days_ago(10))
        self.assertEqual(Account.settle_bills([account.id]),
            {account.id: old.due_date})
        payment = create_payment(account, '70')
        old, new = self.reload(old, new)
        self.assertEqual((old.state, new.state), ('paid', 'issued'))
        # the reversed money no longer pays the old bill
        Payment.post_reversal([payment], "Cheque bounced")
        old, new = self.reload(old, new)
        self.assertEqual((old.state, new.state), ('issued', 'issued'))
        create_payment(account, '100')
        old, new = self.reload(old, new)
        self.assertEqual((old.state, new.state), ('paid', 'paid'))

    # --- dunning ----------------------------------------------------------

    @scenario
    def test_not_yet_overdue(self):
        "A bill not yet due, or overdue for less than 3 days: no action"
        pool = Pool()
        Account = pool.get('telecom.account')
        subscriber = self.line()
        account = subscriber.account
        create_bill(account, '50', today())
        Account.run_dunning()
        account, = self.reload(account)
        self.assertIsNone(account.overdue_since)
        self.assertIsNone(account.dunning_stage)

        Bill = pool.get('telecom.bill')
        Bill.write(list(Bill.search([])), {'due_date': days_ago(2)})
        Account.run_dunning()
        account, = self.reload(account)
        self.assertEqual(account.overdue_since, days_ago(2))
        self.assertEqual(account.days_overdue, 2)
        self.assertIsNone(account.dunning_stage)
        self.assertEqual(self.messages, [])

    @scenario
    def test_reminder_after_3_days(self):
        pool = Pool()
        Account = pool.get('telecom.account')
        ModelData = pool.get('ir.model.data')
        subscriber = self.line()
        account = subscriber.account
        create_bill(account, '50', days_ago(3))
        Outbox = self.outbox()
        before = Outbox.search_count([]) if Outbox else 0

        Account.run_dunning()
        account, subscriber = self.reload(account, subscriber)
        self.assertEqual(account.dunning_stage.id,
            ModelData.get_id('crm_dunning', 'dunning_stage_reminder'))
        self.assertEqual(account.overdue_since, days_ago(3))
        self.assertEqual(account.days_overdue, 3)
        self.assertEqual(account.arrears, D('50'))
        self.assertEqual(subscriber.state, 'active')
        reminder, = self.sms('reminder')
        self.assertEqual(reminder['subscriber'], subscriber)
        self.assertIn('50', reminder['text'])
        if Outbox:
            self.assertGreater(Outbox.search_count([]), before)

        # the next day: same stage, no second reminder
        Account.run_dunning(date=today() + dt.timedelta(days=1))
        self.assertEqual(len(self.sms('reminder')), 1)
        self.assertEqual(Account.search([('days_overdue', '>=', 3)]),
            [account])
        self.assertEqual(Account.search([('arrears', '>', 0)]), [account])

    @scenario
    def test_reminder_then_suspension(self):
        "The stages follow one another as the days pass"
        pool = Pool()
        Account = pool.get('telecom.account')
        subscriber = self.line()
        create_bill(subscriber.account, '42', days_ago(3))
        Account.run_dunning()
        self.assertEqual(len(self.sms('reminder')), 1)
        subscriber, = self.reload(subscriber)
        self.assertEqual(subscriber.state, 'active')

        Account.run_dunning(date=today() + dt.timedelta(days=12))
        subscriber, = self.reload(subscriber)
        self.assertEqual(subscriber.state, 'suspended')
        self.assertEqual(subscriber.account.dunning_stage.action, 'suspend')
        self.assertEqual(len(self.sms('reminder')), 1)
        self.assertEqual(len(self.sms('suspension')), 1)

    @scenario
    def test_suspension_after_15_days(self):
        pool = Pool()
        Account = pool.get('telecom.account')
        Order = pool.get('telecom.order')
        ModelData = pool.get('ir.model.data')
        subscriber = self.line(services=["彩铃"])
        other = self.line(number='13800138111', account=subscriber.account)
        account = subscriber.account
        create_bill(account, '88.50', days_ago(15))

        Account.run_dunning()
        account, subscriber, other = self.reload(account, subscriber, other)
        self.assertEqual(account.dunning_stage.id,
            ModelData.get_id('crm_dunning', 'dunning_stage_suspend'))
        for line in [subscriber, other]:
            self.assertEqual(line.state, 'suspended')
            self.assertEqual(line.suspension_reason, 'arrears')
            suspend, = Order.search([
                    ('subscriber', '=', line.id), ('type', '=', 'suspend')])
            self.assertEqual(suspend.state, 'done')
            self.assertEqual(suspend.suspension_reason, 'arrears')
            self.assertIn('88.50', suspend.reason)
        self.assertEqual({s.state for s in subscriber.services},
            {'suspended'})
        self.assertEqual(
            {m['subscriber'] for m in self.sms('suspension')},
            {subscriber, other})
        # straight to suspension: no reminder first
        self.assertEqual(self.sms('reminder'), [])

        # the next run changes nothing
        Account.run_dunning()
        self.assertEqual(Order.search_count([('type', '=', 'suspend')]), 2)
        self.assertEqual(len(self.sms('suspension')), 2)

    @scenario
    def test_line_busy_retried(self):
        "A line with an order in progress is suspended at the next run"
        pool = Pool()
        Account = pool.get('telecom.account')
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        subscriber = self.line()
        create_bill(subscriber.account, '30', days_ago(20))
        pending = order('add_service', subscriber, service=products["彩铃"])
        with network_waits():
            Order.submit([pending])

        Account.run_dunning()
        subscriber, = self.reload(subscriber)
        self.assertEqual(subscriber.state, 'active')
        self.assertEqual(self.sms('suspension'), [])

        Order.complete([pending])
        Account.run_dunning()
        subscriber, = self.reload(subscriber)
        self.assertEqual(subscriber.state, 'suspended')
        self.assertEqual(subscriber.suspension_reason, 'arrears')
        self.assertEqual(len(self.sms('suspension')), 1)

    @scenario
    def test_prepaid_below_threshold(self):
        "A prepaid line is suspended at once below the threshold"
        pool = Pool()
        Account = pool.get('telecom.account')
        Configuration = pool.get('telecom.configuration')
        config = Configuration(1)
        config.prepaid_suspend_threshold = D('5.00')
        config.save()
        low = self.line(payment_type='prepaid')
        fine = self.line(number='13800138222', payment_type='prepaid')
        create_payment(low.account, '4.99')
        create_payment(fine.account, '5')

        Account.run_dunning()
        low, fine = self.reload(low, fine)
        self.assertEqual((low.state, low.suspension_reason),
            ('suspended', 'arrears'))
        self.assertEqual(fine.state, 'active')
        self.assertEqual(low.account.overdue_since, today())
        message, = self.sms('suspension')
        self.assertEqual(message['subscriber'], low)

        # topping up restores it at once
        create_payment(low.account, '10')
        low, = self.reload(low)
        self.assertEqual(low.state, 'active')
        self.assertIsNone(low.account.overdue_since)
        self.assertIsNone(low.account.dunning_stage)
        self.assertEqual(len(self.sms('restoration')), 1)

    @scenario
    def test_arrears_suspension_and_full_restoration(self):
        """The issue's scenario: a line with two value-added services is
        suspended for arrears; the customer pays the same day; the line
        and both services come back, each with its event"""
        pool = Pool()
        Account = pool.get('telecom.account')
        Order = pool.get('telecom.order')
        Bill = pool.get('telecom.bill')
        subscriber = self.line(services=["彩铃", "咪咕视频会员"])
        account = subscriber.account
        bill = create_bill(account, '128.00', days_ago(16))

        Account.run_dunning()
        subscriber, = self.reload(subscriber)
        self.assertEqual(subscriber.state, 'suspended')
        self.assertEqual([s.state for s in subscriber.services],
            ['suspended', 'suspended'])

        payment = create_payment(account, '128.00', channel='app',
            method='wechat', reference='WX-0001')
        self.assertEqual(payment.state, 'posted')
        subscriber, account, bill = self.reload(subscriber, account, bill)
        self.assertEqual(subscriber.state, 'active')
        self.assertIsNone(subscriber.suspension_reason)
        self.assertEqual([s.state for s in subscriber.services],
            ['active', 'active'])
        resume, = Order.search([
                ('subscriber', '=', subscriber.id), ('type', '=', 'resume')])
        self.assertEqual(resume.state, 'done')
        events = [e for e in subscriber.events if e.order == resume]
        self.assertEqual(sorted(e.type for e in events),
            ['resume', 'service_resumed', 'service_resumed'])
        self.assertEqual(
            {e.service for e in events if e.type == 'service_resumed'},
            set(subscriber.services))
        self.assertEqual(bill.state, 'paid')
        self.assertEqual(account.balance, D('0'))
        self.assertIsNone(account.overdue_since)
        self.assertIsNone(account.dunning_stage)
        restoration, = self.sms('restoration')
        self.assertEqual(restoration['subscriber'], subscriber)
        self.assertEqual(Account.search([('overdue_since', '!=', None)]), [])
        self.assertEqual(Bill.search([('state', '=', 'issued')]), [])

    @scenario
    def test_partial_payment_keeps_suspension(self):
        pool = Pool()
        Account = pool.get('telecom.account')
        subscriber = self.line()
        account = subscriber.account
        create_bill(account, '100', days_ago(20))
        Account.run_dunning()
        create_payment(account, '60')
        subscriber, account = self.reload(subscriber, account)
        self.assertEqual(subscriber.state, 'suspended')
        self.assertEqual(account.arrears, D('40'))
        self.assertIsNotNone(account.dunning_stage)

    @scenario
    def test_paid_bill_not_due_restores(self):
        "Paying the overdue bill is enough; a bill not yet due may wait"
        pool = Pool()
        Account = pool.get('telecom.account')
        subscriber = self.line()
        account = subscriber.account
        create_bill(account, '100', days_ago(20))
        create_bill(account, '30', today() + dt.timedelta(days=5))
        Account.run_dunning()
        create_payment(account, '100')
        subscriber, account = self.reload(subscriber, account)
        self.assertEqual(account.balance, D('-30'))
        self.assertEqual(subscriber.state, 'active')
        self.assertIsNone(account.dunning_stage)

    @scenario
    def test_restoration_cron_catches_late_suspension(self):
        """The payment arrives while the suspension is still on its way:
        the cron restores the line once the suspension lands"""
        pool = Pool()
        Account = pool.get('telecom.account')
        Order = pool.get('telecom.order')
        subscriber = self.line(services=["彩铃", "手机报"])
        account = subscriber.account
        create_bill(account, '45', days_ago(30))
        Account.write([account], {'overdue_since': days_ago(30)})
        suspend = order('suspend', subscriber, suspension_reason='arrears')
        with network_waits():
            Order.submit([suspend])

        create_payment(account, '45')
        subscriber, = self.reload(subscriber)
        self.assertEqual(subscriber.state, 'active')

        # the network acknowledges the suspension afterwards
        Order.complete([suspend])
        subscriber, = self.reload(subscriber)
        self.assertEqual(subscriber.state, 'suspended')

        Account.restore_paid()
        subscriber, = self.reload(subscriber)
        self.assertEqual(subscriber.state, 'active')
        self.assertEqual({s.state for s in subscriber.services}, {'active'})

    @scenario
    def test_other_suspensions_untouched(self):
        "A line suspended for loss stays suspended when the debt is paid"
        pool = Pool()
        Account = pool.get('telecom.account')
        Order = pool.get('telecom.order')
        subscriber = self.line()
        Order.process([order('suspend', subscriber,
                    suspension_reason='loss')])
        create_bill(subscriber.account, '20', days_ago(20))
        Account.run_dunning()
        create_payment(subscriber.account, '20')
        subscriber, = self.reload(subscriber)
        self.assertEqual((subscriber.state, subscriber.suspension_reason),
            ('suspended', 'loss'))

    @scenario
    def test_stage_configurable(self):
        "Administrators change the stages: suspension after 30 days"
        pool = Pool()
        Account = pool.get('telecom.account')
        Stage = pool.get('telecom.dunning.stage')
        ModelData = pool.get('ir.model.data')
        suspend = Stage(ModelData.get_id('crm_dunning',
                'dunning_stage_suspend'))
        suspend.days = 30
        suspend.save()
        subscriber = self.line()
        create_bill(subscriber.account, '20', days_ago(20))
        Account.run_dunning()
        subscriber, = self.reload(subscriber)
        self.assertEqual(subscriber.state, 'active')
        self.assertEqual(subscriber.account.dunning_stage.action, 'reminder')

    # --- dunning records --------------------------------------------------

    @scenario
    def test_dunning_per_stage(self):
        """A dunning per stage reached: when, how much, what the SMS said,
        which orders it placed; once per arrears episode; cleared when
        paid, and a new episode dunned anew"""
        pool = Pool()
        Account = pool.get('telecom.account')
        Dunning = pool.get('telecom.dunning')
        ModelData = pool.get('ir.model.data')
        reminder_stage = ModelData.get_id('crm_dunning',
            'dunning_stage_reminder')
        subscriber = self.line(services=["彩铃"])
        account = subscriber.account
        create_bill(account, '66.60', days_ago(4))

        Account.run_dunning()
        reminder, = Dunning.search([('account', '=', account.id)])
        sent, = self.sms('reminder')
        self.assertEqual(reminder.stage.id, reminder_stage)
        self.assertEqual(
            (reminder.action, reminder.state, reminder.date,
                reminder.overdue_since, reminder.days_overdue,
                reminder.amount),
            ('reminder', 'done', today(), days_ago(4), 4, D('66.60')))
        self.assertEqual(reminder.message, sent['text'])
        self.assertIn('66.60', reminder.message)
        self.assertIsNotNone(reminder.notified_at)
        self.assertEqual(reminder.orders, ())
        self.assertEqual(reminder.company, account.company)
        self.assertEqual(reminder.currency.code, 'CNY')

        # runs of the same episode add nothing until the next stage
        later = today() + dt.timedelta(days=5)
        Account.run_dunning(date=later)
        self.assertEqual(Dunning.search_count([]), 1)
        Account.run_dunning(date=today() + dt.timedelta(days=11))
        Account.run_dunning(date=today() + dt.timedelta(days=12))
        reminder, suspension = Dunning.search([], order=[('id', 'ASC')])
        self.assertEqual(
            (suspension.action, suspension.state, suspension.days_overdue),
            ('suspend', 'done', 15))
        order, = suspension.orders
        self.assertEqual(
            (order.type, order.state, order.subscriber, order.dunning),
            ('suspend', 'done', subscriber, suspension))
        self.assertEqual(suspension.message,
            self.sms('suspension')[0]['text'])
        self.assertEqual(len(self.sms('reminder')), 1)
        self.assertEqual(account.dunnings, (suspension, reminder))

        create_payment(account, '66.60')
        reminder, suspension = self.reload(reminder, suspension)
        self.assertEqual([d.state for d in [reminder, suspension]],
            ['cleared', 'cleared'])
        self.assertEqual(reminder.cleared_date, today())
        self.assertEqual(reminder.message, sent['text'])

        # a new debt is a new episode: reminded again
        create_bill(account, '10', days_ago(3),
            period_start=today().replace(day=1))
        Account.run_dunning()
        self.assertEqual(len(self.sms('reminder')), 2)
        self.assertEqual(Dunning.search_count([('state', '!=', 'cleared')]),
            1)

    @scenario
    def test_dunning_run_set_based(self):
        "The run's queries do not grow with the accounts it reminds"
        pool = Pool()
        Account = pool.get('telecom.account')
        Dunning = pool.get('telecom.dunning')
        Cursor = type(Transaction().connection.cursor())
        execute = Cursor.execute
        queries = []

        def counting(cursor, *args, **kwargs):
            queries.append(args[0])
            return execute(cursor, *args, **kwargs)

        def run(count, start):
            for i in range(start, start + count):
                line = self.line(number='1390013%04d' % i)
                create_bill(line.account, '10', days_ago(4))
            del queries[:]
            with patch.object(Cursor, 'execute', counting):
                Account.run_dunning()
            self.assertEqual(Dunning.search_count([]), start + count)
            self.assertEqual(len(self.sms('reminder')), start + count)
            return len(queries)

        run(1, 0)  # caches warm
        self.assertEqual(run(2, 1), run(6, 3))

    # not a scenario: on PostgreSQL the refusal ends the transaction
    @with_transaction()
    def test_dunning_once_per_stage(self):
        "The database refuses a second open dunning of a stage"
        pool = Pool()
        Account = pool.get('telecom.account')
        Dunning = pool.get('telecom.dunning')
        subscriber = self.line()
        create_bill(subscriber.account, '20', days_ago(3))
        Account.run_dunning()
        dunning, = Dunning.search([])
        with self.assertRaises(SQLConstraintError):
            Dunning.copy([dunning])

    @scenario
    def test_dunning_waits_for_busy_line(self):
        """A suspension waits while a line is busy, then records every
        line it suspended"""
        pool = Pool()
        Account = pool.get('telecom.account')
        Order = pool.get('telecom.order')
        Dunning = pool.get('telecom.dunning')
        regions, brands, products = setup_reference()
        busy = self.line()
        free = self.line(number='13800138111', account=busy.account)
        create_bill(busy.account, '30', days_ago(20))
        pending = order('add_service', busy, service=products["彩铃"])
        with network_waits():
            Order.submit([pending])

        Account.run_dunning()
        dunning, = Dunning.search([])
        self.assertEqual(dunning.state, 'waiting')
        self.assertEqual([o.subscriber for o in dunning.orders], [free])
        self.assertIsNone(dunning.message)

        Order.complete([pending])
        Account.run_dunning()
        dunning, = self.reload(dunning)
        self.assertEqual(dunning.state, 'done')
        self.assertEqual(sorted(o.subscriber.id for o in dunning.orders),
            sorted([busy.id, free.id]))
        self.assertEqual(dunning.message.splitlines(),
            [m['text'] for m in self.sms('suspension')])

    @scenario
    def test_dunning_action_pluggable(self):
        """Another module adds an action: a selection value on the stage
        and its _process_<action> method on the dunning"""
        pool = Pool()
        Account = pool.get('telecom.account')
        Stage = pool.get('telecom.dunning.stage')
        Dunning = pool.get('telecom.dunning')
        called = []

        def process_letter(cls, dunnings):
            called.extend(dunnings)
            return {d: "Letter to %s" % d.account.rec_name for d in dunnings}

        with patch.object(Stage.action, 'selection',
                    Stage.action.selection + [('letter', "Letter")]), \
                patch.object(Dunning, '_process_letter',
                    classmethod(process_letter), create=True):
            letter, = Stage.create([{
                        'name': "Letter", 'days': 1, 'action': 'letter'}])
            subscriber = self.line()
            account = subscriber.account
            create_bill(account, '20', days_ago(2))
            Account.run_dunning()
            dunning, = Dunning.search([])
            self.assertEqual(called, [dunning])
            self.assertEqual((dunning.stage, dunning.action, dunning.state),
                (letter, 'letter', 'done'))
            self.assertEqual(dunning.message,
                "Letter to %s" % account.rec_name)
        self.assertEqual(self.messages, [])

    @scenario
    def test_dunning_delete_cleared_only(self):
        pool = Pool()
        Account = pool.get('telecom.account')
        Dunning = pool.get('telecom.dunning')
        subscriber = self.line()
        create_bill(subscriber.account, '20', days_ago(3))
        Account.run_dunning()
        dunning, = Dunning.search([])
        with self.assertRaises(DunningError) as cm:
            Dunning.delete([dunning])
        self.assertIn(dunning.rec_name, cm.exception.message)
        # in the operator's language, naming the dunning and its state
        load_chinese('crm_dunning')
        with Transaction().set_context(language='zh_CN'):
            with self.assertRaises(DunningError) as cm:
                Dunning.delete(Dunning.browse([dunning.id]))
        self.assertIn("提醒 @ %s" % subscriber.account.code,
            cm.exception.message)
        self.assertIn("“已执行”：只能删除已销账", cm.exception.message)
        create_payment(subscriber.account, '20')
        Dunning.delete([dunning])

    @scenario
    def test_dunning_access(self):
        """Billing operators manage dunnings, call-centre agents read them,
        dealers do not see them"""
        pool = Pool()
        Account = pool.get('telecom.account')
        Dunning = pool.get('telecom.dunning')
        subscriber = self.line()
        create_bill(subscriber.account, '20', days_ago(3))
        Account.run_dunning()
        dunning, = Dunning.search([])
        billing = create_staff('billing', 'group_billing')
        caller = create_staff('caller', 'group_call_centre')
        dealer = create_staff('dealer', 'group_agent')
        with Transaction().set_user(billing.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Dunning.search([]), [dunning])
            Dunning.write([Dunning(dunning.id)], {'message': "corrected"})
        with Transaction().set_user(caller.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Dunning.search([]), [dunning])
            with self.assertRaises(AccessError):
                Dunning.write([Dunning(dunning.id)], {'message': "x"})
        with Transaction().set_user(dealer.id), \
                Transaction().set_context(_check_access=True):
            with self.assertRaises(AccessError):
                Dunning.search([])

        # another province's billing operator does not see it
        Company = pool.get('company.company')
        Party = pool.get('party.party')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        party, = Party.create([{'name': "中国移动香港有限公司"}])
        other, = Company.create([{'party': party.id,
                    'currency': dunning.currency.id}])
        elsewhere, = User.create([{'login': 'elsewhere',
                    'groups': [('add', [ModelData.get_id(
                                    'crm_telecom', 'group_billing')])],
                    'companies': [('add', [other.id])],
                    'company': other.id}])
        with Transaction().set_user(elsewhere.id), \
                Transaction().set_context(_check_access=True,
                    company=other.id):
            self.assertEqual(Dunning.search([]), [])

    @scenario
    def test_account_copy_without_dunning(self):
        pool = Pool()
        Account = pool.get('telecom.account')
        subscriber = self.line()
        create_bill(subscriber.account, '20', days_ago(3))
        Account.run_dunning()
        copy, = Account.copy([subscriber.account])
        self.assertEqual(
            (copy.dunnings, copy.dunning_stage, copy.overdue_since),
            ((), None, None))

    # --- arrears list -----------------------------------------------------

    @scenario
    def test_arrears_xlsx(self):
        pool = Pool()
        Account = pool.get('telecom.account')
        late = self.line()
        reminded = self.line(number='13800138333')
        create_bill(late.account, '99.90', days_ago(20))
        create_bill(reminded.account, '10', days_ago(4))
        self.line(number='13800138444')
        Account.run_dunning()

        sheet, rows = xlsx_report('telecom.arrears.list.xlsx')
        self.assertIn('Arrears', rows[0][0])
        header = rows[2]
        data = rows[3:]
        self.assertEqual(len(data), 2)
        first = dict(zip(header, data[0]))
        self.assertEqual(first['Code'], late.account.code)
        self.assertEqual(first['Amount Owed'], 99.9)
        self.assertEqual(first['Days Overdue'], 20)
        self.assertEqual(first['Dunning Stage'], 'Suspension')
        self.assertEqual(first['Lines Suspended'], 1)
        self.assertEqual(first['Suspended Numbers'], '13800138000')

        # the menu's wizard passes its filters to the report
        Wizard = pool.get('telecom.arrears.list', type='wizard')
        session_id, _, _ = Wizard.create()
        result = Wizard.execute(session_id, {'start': {
                    'stage': reminded.account.dunning_stage.id,
                    'region': None, 'payment_type': None}}, 'export')
        action, = result['actions']
        data = action[1]
        sheet, rows = xlsx_report('telecom.arrears.list.xlsx', data=data)
        self.assertIn('Reminder', rows[0][0])
        self.assertEqual([r[0] for r in rows[3:]], [reminded.account.code])


if __name__ == '__main__':
    unittest.main()
