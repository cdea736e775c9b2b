"""What the payment form and the poster are told of the lines a payment
restores: alone (orders done at once, or waiting as if a network were
connected) and with crm_provisioning sending them to the network."""
import datetime as dt
import unittest
from unittest.mock import patch

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction

from crm_telecom.tests.tools import (
    activation,
    create_account,
    create_bill,
    create_customer,
    create_numbers,
    create_payment,
    create_staff,
    load_chinese,
    network_waits,
    order,
    setup_reference,
)

SERVICES = ["彩铃", "咪咕视频会员"]


class RestorationMixin:
    modules = ['crm_dunning']

    @classmethod
    def setUpClass(cls):
        activate_module(cls.modules)

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def suspended_line(self, services=SERVICES):
        """A line with services, suspended for a debt 16 days overdue, and
        a cashier (a billing operator) working in Chinese"""
        pool = Pool()
        Order = pool.get('telecom.order')
        Account = pool.get('telecom.account')
        Lang = pool.get('ir.lang')
        load_chinese(*self.modules)
        regions, brands, products = setup_reference()
        customer = create_customer()
        account = create_account(customer, payment_type='postpaid')
        number, = create_numbers('13800138000')
        activate = activation(customer, number, brands['SZX'],
            products["神州行 18元畅聊卡"], account=account)
        Order.process([activate])
        line = activate.subscriber
        Order.process([order('add_service', line, service=products[name])
                for name in services])
        create_bill(account, '128.00',
            pool.get('ir.date').today() - dt.timedelta(days=16))
        Account.run_dunning()
        line = line.__class__(line.id)
        self.assertEqual(line.state, 'suspended')
        cashier = create_staff('cashier', 'group_billing', name="收银员")
        cashier.language, = Lang.search([('code', '=', 'zh_CN')])
        cashier.save()
        return line, cashier

    def pay(self, cashier, account, amount='128.00'):
        "The cashier posts a payment; the form as they see it then"
        Payment = Pool().get('telecom.payment')
        with Transaction().set_user(cashier.id), \
                Transaction().set_context(_check_access=True,
                    language='zh_CN'):
            payment = create_payment(account, amount)
            return Payment(payment.id)

    def restoration(self, payment):
        Payment = Pool().get('telecom.payment')
        with Transaction().set_context(language='zh_CN'):
            return Payment(payment.id).restoration

    def restore_order(self, payment):
        restore, = Pool().get('telecom.order').search([
                ('payment', '=', payment.id)])
        self.assertEqual(restore.type, 'resume')
        return restore


class RestorationTestCase(RestorationMixin, unittest.TestCase):
    "The payment's restoration, crm_dunning alone"

    @with_transaction()
    def test_restored_at_once(self):
        "No network: the line and its services are back when posted"
        line, cashier = self.suspended_line()
        payment = self.pay(cashier, line.account)
        self.assertEqual(payment.restoration,
            "号码 13800138000 及其 2 项业务已恢复（彩铃、咪咕视频会员）")
        restore = self.restore_order(payment)
        self.assertEqual(restore.state, 'done')
        self.assertEqual(restore.submitted_by, cashier)
        # a payment that restores nothing says nothing
        self.assertIsNone(self.pay(cashier, line.account, '10').restoration)

    @with_transaction()
    def test_restoration_waits_for_the_network(self):
        "Being restored until the network answers, then back or failed"
        pool = Pool()
        Order = pool.get('telecom.order')
        line, cashier = self.suspended_line()
        network_waits(self)
        payment = self.pay(cashier, line.account)
        self.assertEqual(payment.restoration,
            "号码 13800138000 及其 2 项业务正在恢复…（彩铃、咪咕视频会员）")
        restore = self.restore_order(payment)
        Order.complete([restore])
        self.assertEqual(self.restoration(payment),
            "号码 13800138000 及其 2 项业务已恢复（彩铃、咪咕视频会员）")

    @with_transaction()
    def test_restoration_failed(self):
        pool = Pool()
        Order = pool.get('telecom.order')
        line, cashier = self.suspended_line(services=[])
        network_waits(self)
        payment = self.pay(cashier, line.account)
        self.assertEqual(payment.restoration, "号码 13800138000 正在恢复…")
        Order.fail([self.restore_order(payment)], reason="网络忙")
        self.assertEqual(self.restoration(payment),
            "号码 13800138000 恢复失败：网络忙")


class RestorationNetworkTestCase(RestorationMixin, unittest.TestCase):
    "The payment's restoration through the outbox of crm_provisioning"
    modules = ['crm_dunning', 'crm_provisioning']

    def connect(self):
        "Requests wait for the network (no task runs: nothing is sent)"
        Configuration = Pool().get('telecom.configuration')
        configuration = Configuration(1)
        configuration.provisioning_url = 'http://127.0.0.1:9/provision'
        configuration.save()

    def request(self, restore):
        request, = Pool().get('telecom.provisioning.request').search([
                ('order', '=', restore.id)])
        return request

    def notifications(self, user):
        return Pool().get('res.notification').search([
                ('user', '=', user.id),
                ('model', '=', 'telecom.order'),
                ])

    @with_transaction()
    def test_restoration_acknowledged(self):
        """正在恢复 while the restore order is provisioning, 已恢复 once
        the network acknowledges it, and the cashier is told"""
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        line, cashier = self.suspended_line()
        self.connect()
        payment = self.pay(cashier, line.account)
        self.assertEqual(payment.restoration,
            "号码 13800138000 及其 2 项业务正在恢复…（彩铃、咪咕视频会员）")
        restore = self.restore_order(payment)
        self.assertEqual(restore.state, 'provisioning')
        self.assertEqual(self.notifications(cashier), [])

        with patch('trytond.bus.notify') as popup:
            Request.acknowledge(self.request(restore).idempotency_key,
                'done')
        self.assertEqual(self.restoration(payment),
            "号码 13800138000 及其 2 项业务已恢复（彩铃、咪咕视频会员）")
        self.assertEqual(line.__class__(line.id).state, 'active')
        notification, = self.notifications(cashier)
        self.assertEqual(notification.label,
            "号码 13800138000 及其 2 项业务已恢复")
        self.assertEqual(notification.description,
            "缴费 %s，受理单 %s（彩铃、咪咕视频会员）" % (
                payment.code, restore.code))
        popup.assert_called_once_with(notification.label,
            notification.description, user=cashier.id)

    @with_transaction()
    def test_restoration_refused(self):
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        line, cashier = self.suspended_line()
        self.connect()
        payment = self.pay(cashier, line.account)
        restore = self.restore_order(payment)
        Request.acknowledge(self.request(restore).idempotency_key, 'failed',
            "号码状态异常")
        self.assertEqual(self.restoration(payment),
            "号码 13800138000 恢复失败：号码状态异常")
        notification, = self.notifications(cashier)
        self.assertEqual(notification.label,
            "号码 13800138000 恢复失败：号码状态异常")


if __name__ == '__main__':
    unittest.main()
