"""The provisioning and SMS outbox against a fake endpoint (endpoint.py).

One database for the class: tests decorated with with_transaction() roll
back and run the queue's tasks themselves, synchronously; the worker tests
commit and run them as trytond-worker does (Queue.pull, then run_task in
transactions of their own, or trytond-worker itself on PostgreSQL) and
leave no open request or task behind."""
import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock

import requests
from sql import For, Null

from trytond import backend
from trytond import config as tconfig
from trytond.model.exceptions import AccessButtonError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase, with_transaction
from trytond.transaction import Transaction, TransactionError
from trytond.worker import run_task

from crm_provisioning.exceptions import ProvisioningError
from crm_provisioning.provisioning import QUEUE
from crm_telecom.tests.tools import (
    PASSWORD,
    RPCMixin,
    activation,
    create_customer,
    create_numbers,
    create_staff,
    load_chinese,
    order,
    setup_company,
    setup_reference,
)

from .endpoint import Endpoint

PLAN = "神州行 18元畅聊卡"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))


class Crash(BaseException):
    "The process dies (like SystemExit): nothing is caught on the way"


def close(value, expected, seconds=5):
    "Two moments of the queue's clock within seconds of each other"
    return abs((value - expected).total_seconds()) <= seconds


class ProvisioningTestCase(RPCMixin, RouteTestCase):
    "Provisioning and notification outbox"
    module = 'crm_provisioning'
    _lines = itertools.count(1)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.endpoint = Endpoint().start()
        cls.addClassCleanup(cls.endpoint.stop)

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        User = pool.get('res.user')
        Application = pool.get('res.user.application')
        ModelData = pool.get('ir.model.data')
        billing = ModelData.get_id('crm_telecom', 'group_billing')
        clerk = ModelData.get_id('crm_telecom', 'group_clerk')
        company = setup_company()
        staff = {'companies': [('add', [company.id])], 'company': company.id}
        User.create([
                {'login': 'billing', 'name': "计费账务员",
                    'groups': [('add', [billing])], **staff},
                {'login': 'billing_left', 'name': "已离职账务员",
                    'active': False, 'groups': [('add', [billing])],
                    **staff},
                {'login': 'clerk', 'name': "营业员", 'password': PASSWORD,
                    'groups': [('add', [clerk])], **staff},
                ])
        network, = User.create([{'login': 'network', 'name': "Network"}])
        application, = Application.create([{
                    'user': network.id,
                    'application': 'crm_telecom_provisioning',
                    'state': 'validated',
                    }])
        cls.ack_key = application.key
        rest, = Application.create([{
                    'user': network.id, 'application': 'rest',
                    'state': 'validated'}])
        cls.rest_key = rest.key

    def setUp(self):
        super().setUp()
        self.endpoint.reset()

    # --- helpers ----------------------------------------------------------

    def configure(self, url=False, sms_url=False, **values):
        "Endpoints: True = the fake endpoint, False = none (local)"
        Configuration = Pool().get('telecom.configuration')
        configuration = Configuration(1)
        configuration.provisioning_url = (
            self.endpoint.provision_url if url else None)
        configuration.sms_url = self.endpoint.sms_url if sms_url else None
        configuration.request_timeout = values.get('request_timeout', 2.0)
        configuration.max_attempts = values.get('max_attempts', 6)
        configuration.retry_delay = values.get('retry_delay', 30)
        configuration.save()

    def setup_line(self):
        "An active line, activated in local mode"
        Order = Pool().get('telecom.order')
        self.configure()
        i = next(self._lines)
        regions, brands, products = setup_reference()
        customer = create_customer(name="客户%s" % i, sequence=i)
        number, = create_numbers('1380013%04d' % i)
        activate = activation(customer, number, brands['SZX'],
            products[PLAN])
        Order.submit([activate])
        self.assertEqual(activate.state, 'done')
        return activate.subscriber

    def add_service(self, subscriber, name="彩铃"):
        "A submitted add-service order and its request"
        pool = Pool()
        Order = pool.get('telecom.order')
        Request = pool.get('telecom.provisioning.request')
        regions, brands, products = setup_reference()
        add = order('add_service', subscriber, service=products[name])
        Order.submit([add])
        request, = Request.search([('order', '=', add.id)])
        return add, request

    def events(self, order):
        return [e for e in order.subscriber.events if e.order == order]

    def task(self, request):
        "The queue task of the request's next attempt"
        Queue = Pool().get('ir.queue')
        task = Queue(request.queue_task)
        self.assertEqual((task.name, task.data['model'], task.data['method']),
            (QUEUE, 'telecom.provisioning.request', 'send'))
        self.assertIn(request.id, task.data['instances'])
        self.assertIsNone(task.finished_at)
        return task

    # --- local mode -------------------------------------------------------

    @with_transaction()
    def test_local_mode(self):
        "Without endpoints orders and messages are acknowledged at once"
        pool = Pool()
        Order = pool.get('telecom.order')
        Request = pool.get('telecom.provisioning.request')
        Queue = pool.get('ir.queue')
        tasks = Queue.search_count([])
        self.configure()
        subscriber = self.setup_line()
        activate, = subscriber.orders
        request, = Request.search([('order', '=', activate.id)])
        self.assertEqual((request.channel, request.action, request.state,
                request.response), ('network', 'activate', 'done', 'local'))
        self.assertEqual(request.subscriber, subscriber)
        self.assertEqual(request.number, subscriber.number.number)
        self.assertEqual(len(request.idempotency_key), 32)
        payload = request.get_payload()
        self.assertEqual(payload['order'], activate.code)
        self.assertEqual(payload['type'], 'activate')
        self.assertEqual(payload['iccid'], activate.iccid)
        self.assertEqual(payload['plan']['name'], PLAN)
        self.assertEqual(payload['services'], [])
        # the submitter's click applied it, no system step
        self.assertEqual([(e.user.id, e.step) for e in subscriber.events],
            [(Transaction().user, None)])

        add, request = self.add_service(subscriber, "彩铃")
        self.assertEqual(add.state, 'done')
        self.assertEqual(request.get_payload()['service']['name'], "彩铃")
        suspend = order('suspend', subscriber, suspension_reason='arrears')
        Order.submit([suspend])
        self.assertEqual(suspend.state, 'done')
        request, = Request.search([('order', '=', suspend.id)])
        payload = request.get_payload()
        self.assertEqual(payload['suspension_reason'], 'arrears')
        self.assertEqual([s['name'] for s in payload['services']], ["彩铃"])
        resume = order('resume', subscriber)
        Order.submit([resume])
        request, = Request.search([('order', '=', resume.id)])
        self.assertEqual([s['name'] for s in request.get_payload()[
                    'services']], ["彩铃"])

        # a transfer changes nothing on the network
        new_owner = create_customer(name="新机主", sequence=900)
        transfer = order('transfer', subscriber, new_owner=new_owner.id,
            account=pool.get('telecom.account').create(
                [{'payer': new_owner.id}])[0].id)
        Order.submit([transfer])
        self.assertEqual(transfer.state, 'done')
        self.assertEqual(Request.search([('order', '=', transfer.id)]), [])
        self.assertEqual(self.endpoint.received, [])
        # nothing to send, nothing queued
        self.assertEqual(Queue.search_count([]), tasks)

    # --- with the endpoint ------------------------------------------------

    @with_transaction()
    def test_submit_queues_the_request(self):
        """Submit writes the request and its task, to run as soon as the
        transaction commits; the order completes when the task is done"""
        pool = Pool()
        Queue = pool.get('ir.queue')
        subscriber = self.setup_line()
        self.configure(url=True)
        add, request = self.add_service(subscriber)
        self.assertEqual(add.state, 'provisioning')
        self.assertEqual(request.state, 'pending')
        self.assertEqual(subscriber.services, ())
        self.assertEqual(self.endpoint.received, [])
        task = self.task(request)
        self.assertEqual(list(task.data['instances']), [request.id])
        self.assertIsNone(task.scheduled_at)
        self.assertEqual(task.data['user'], Transaction().user)
        # without a worker, the process that commits runs it right after
        self.assertEqual(Transaction().tasks, [task.id])

        # the task, run synchronously here
        Queue(task.id).run()
        self.assertEqual(request.state, 'done')
        self.assertEqual(add.state, 'done')
        service, = subscriber.services
        self.assertEqual(service.product, add.service)
        received, = self.endpoint.received
        self.assertEqual(received['key'], request.idempotency_key)
        self.assertEqual(received['body'], request.get_payload())
        self.assertIn('SIM', request.response)
        self.assertIsNotNone(Queue(task.id).finished_at)
        # done: no further task
        self.assertEqual(request.queue_task, task.id)
        event, = self.events(add)
        self.assertEqual((event.user.id, event.step),
            (Transaction().user, 'network'))

    @with_transaction()
    def test_endpoint_removed(self):
        "Removed before the task runs: acknowledged locally, by the system"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(url=True)
        add, request = self.add_service(subscriber)
        self.configure()
        Request.send([request])
        self.assertEqual((request.state, request.response), ('done', 'local'))
        self.assertEqual(add.state, 'done')
        self.assertEqual([e.step for e in self.events(add)], ['system'])
        self.assertEqual(self.endpoint.received, [])

    @with_transaction()
    def test_activation_with_services(self):
        "Plan and services in one order, one request, one line"
        pool = Pool()
        Order = pool.get('telecom.order')
        Request = pool.get('telecom.provisioning.request')
        regions, brands, products = setup_reference()
        self.configure(url=True)
        number, = create_numbers('13800199999')
        services = [products["彩铃"], products["流量加油包 10元1GB"]]
        activate = activation(create_customer(name="王五", sequence=77),
            number, brands['SZX'], products[PLAN],
            services=[('add', [s.id for s in services])])
        Order.submit([activate])
        self.assertEqual(activate.state, 'provisioning')
        request, = Request.search([('order', '=', activate.id)])
        self.assertEqual(
            sorted(s['name'] for s in request.get_payload()['services']),
            sorted(s.name for s in services))

        Request.send([request])
        self.assertEqual(activate.state, 'done')
        received, = self.endpoint.received
        self.assertEqual(received['body']['plan']['name'], PLAN)
        subscriber = activate.subscriber
        self.assertEqual(subscriber.state, 'active')
        self.assertEqual(
            {(s.product, s.state) for s in subscriber.services},
            {(p, 'active') for p in services})
        self.assertEqual(sorted(e.type for e in self.events(activate)),
            ['activate', 'add_service', 'add_service'])
        self.assertEqual(
            {e.service for e in self.events(activate) if e.service},
            set(subscriber.services))
        self.assertEqual(request.subscriber, subscriber)

    @with_transaction()
    def test_retry_backoff(self):
        """The endpoint fails three times, then takes the order; each
        attempt is a task scheduled with the doubled delay"""
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(url=True)
        add, request = self.add_service(subscriber)
        self.endpoint.fail(3)

        now = dt.datetime(2030, 1, 1, 8, 0)
        for attempts, delay in [(1, 30), (2, 60), (3, 120)]:
            delay = dt.timedelta(seconds=delay)
            previous = request.queue_task
            Request.send([request], now=now)
            self.assertEqual(request.state, 'pending')
            self.assertEqual(request.attempts, attempts)
            self.assertEqual(request.next_attempt_at, now + delay)
            self.assertIn('503', request.last_error)
            self.assertEqual(add.state, 'provisioning')
            task = self.task(request)
            self.assertNotEqual(task.id, previous)
            self.assertTrue(close(task.scheduled_at,
                    dt.datetime.now() + delay))
            # a task that comes early (a duplicate) sends nothing
            received = len(self.endpoint.received)
            Request.send([request], now=now + delay / 2)
            self.assertEqual(len(self.endpoint.received), received)
            self.assertEqual(request.queue_task, task.id)
            now += delay

        Request.send([request], now=now)
        self.assertEqual(request.state, 'done')
        self.assertEqual(request.attempts, 3)
        self.assertEqual(request.acknowledged_at, now)
        self.assertEqual(add.state, 'done')
        self.assertEqual([s.product for s in subscriber.services],
            [add.service])
        self.assertEqual([e.type for e in self.events(add)],
            ['add_service'])
        keys = {r['key'] for r in self.endpoint.received}
        self.assertEqual(keys, {request.idempotency_key})
        self.assertEqual(len(self.endpoint.received), 4)
        self.assertEqual(len(self.endpoint.executed), 1)

    @with_transaction()
    def test_dead_request(self):
        "After max attempts the request is dead and billing is alerted"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        User = pool.get('res.user')
        subscriber = self.setup_line()
        self.configure(url=True, max_attempts=3)
        add, request = self.add_service(subscriber)
        self.endpoint.fail(100)
        first = request.queue_task

        now = dt.datetime.now().replace(microsecond=0)
        for i in range(3):
            Request.send([request], now=now)
            now = request.next_attempt_at or now
        self.assertEqual(request.state, 'dead')
        self.assertEqual(request.attempts, 3)
        self.assertIsNone(request.next_attempt_at)
        self.assertEqual(add.state, 'provisioning')
        self.assertEqual(subscriber.services, ())
        # a task for each retry, none after the last attempt
        self.assertEqual(len(pool.get('ir.queue').search([
                        ('name', '=', QUEUE), ('id', '>=', first)])), 3)
        Request.send([request], now=now + dt.timedelta(days=1))
        self.assertEqual(len(self.endpoint.received), 3)

        billing, = User.search([('login', '=', 'billing')])
        notifications = Transaction().user_notifications
        self.assertEqual([n.user.id for n in notifications], [billing.id])
        notification, = notifications
        self.assertEqual(notification.model, Request.__name__)
        self.assertEqual(json.loads(notification.records), [request.id])
        self.assertIn(add.code, notification.description)
        self.assertIn(request.idempotency_key, notification.description)
        self.assertIn('503', notification.description)

        # a billing operator sends it again once the network is back
        self.endpoint.reset()
        Request.retry([request])
        self.assertEqual((request.state, request.attempts),
            ('pending', 0))
        self.assertIsNone(self.task(request).scheduled_at)
        Request.send_now([request])
        self.assertEqual(request.state, 'done')
        self.assertEqual(add.state, 'done')

    @with_transaction()
    def test_send_now(self):
        "Send Now does not wait for the scheduled attempt"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(url=True)
        add, request = self.add_service(subscriber)
        self.endpoint.fail(1)
        Request.send([request])
        self.assertEqual((request.state, request.attempts), ('pending', 1))
        scheduled = request.queue_task
        Request.send_now([request])
        self.assertEqual(request.state, 'done')
        self.assertEqual(add.state, 'done')
        # the scheduled task comes later and finds nothing to do
        Request.send([request], now=dt.datetime.now() + dt.timedelta(
                seconds=30))
        self.assertEqual(len(self.endpoint.received), 2)
        self.assertEqual(request.queue_task, scheduled)

    @with_transaction()
    def test_buttons_for_operators(self):
        "Send Now and Retry belong to billing operators and administrators"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        User = pool.get('res.user')
        subscriber = self.setup_line()
        self.configure(url=True)
        add, request = self.add_service(subscriber)
        clerk, = User.search([('login', '=', 'clerk')])
        billing, = User.search([('login', '=', 'billing')])
        with Transaction().set_user(clerk.id), \
                Transaction().set_context(_check_access=True):
            with self.assertRaises(AccessButtonError):
                Request.send_now([Request(request.id)])
        self.assertEqual(self.endpoint.received, [])
        with Transaction().set_user(billing.id), \
                Transaction().set_context(_check_access=True):
            Request.send_now([Request(request.id)])
        self.assertEqual(request.state, 'done')

    @with_transaction()
    def test_refused(self):
        "The network refuses the order: the order fails"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(url=True)
        add, request = self.add_service(subscriber)
        self.endpoint.refuse(1)
        Request.send([request])
        self.assertEqual(request.state, 'dead')
        self.assertEqual(add.state, 'failed')
        self.assertEqual(add.failure_reason, "refused by the simulator")
        self.assertEqual(subscriber.services, ())
        self.assertEqual(Transaction().user_notifications, [])

    # --- what the submitter and the operators see --------------------------

    def chinese_clerk(self):
        "The clerk, working in Chinese"
        pool = Pool()
        User = pool.get('res.user')
        Lang = pool.get('ir.lang')
        load_chinese('crm_telecom', 'crm_provisioning')
        clerk, = User.search([('login', '=', 'clerk')])
        clerk.language, = Lang.search([('code', '=', 'zh_CN')])
        clerk.save()
        return clerk

    def notifications(self, user, after=0):
        "The user's notifications of orders, after the one of id after"
        Notification = Pool().get('res.notification')
        return Notification.search([
                ('user', '=', user.id),
                ('model', '=', 'telecom.order'),
                ('id', '>', after),
                ], order=[('id', 'ASC')])

    @with_transaction()
    def test_network_answer_notified(self):
        """The network's answers to a batch of orders: one notification
        per order for its submitter, in their language, created at once,
        and one popup"""
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        Notification = pool.get('res.notification')
        clerk = self.chinese_clerk()
        lines = [self.setup_line(), self.setup_line()]
        self.configure(url=True)
        with Transaction().set_user(clerk.id):
            (done, done_request), (failed, failed_request) = [
                self.add_service(line, name)
                for line, name in zip(lines, ["彩铃", "手机报"])]
        # the committed tests' notifications
        after = max([n.id for n in self.notifications(clerk)], default=0)

        self.endpoint.refuse(1)
        create = Notification.create
        with mock.patch.object(Notification, 'create',
                    side_effect=create) as creating, \
                mock.patch('trytond.bus.notify') as popup:
            # as the queue's task runs it: for the submitter, in English
            Request.send([failed_request, done_request])
        self.assertEqual((done.state, failed.state), ('done', 'failed'))
        creating.assert_called_once()
        failure, success = self.notifications(clerk, after)
        self.assertEqual(json.loads(success.records), [done.id])
        self.assertEqual(success.label, "受理单 %s 已完成：%s 订购业务" % (
                done.code, done.line_number))
        self.assertIn("网络已于", success.description)
        self.assertEqual(success.icon, 'tryton-ok')
        self.assertTrue(success.unread)
        self.assertEqual(json.loads(failure.records), [failed.id])
        self.assertEqual(failure.label, "受理单 %s 失败：%s" % (
                failed.code, "refused by the simulator"))
        self.assertEqual(failure.icon, 'tryton-warning')
        popup.assert_called_once_with("网络已处理 2 张受理单",
            '\n'.join([failure.label, success.label]), user=clerk.id)

        # orders still waiting, or submitted by nobody, tell nobody
        add, request = self.add_service(lines[0], "手机报")
        self.endpoint.fail(1)
        Request.send([request])
        self.assertEqual(add.state, 'provisioning')
        self.assertEqual(len(self.notifications(clerk, after)), 2)

    @with_transaction()
    def test_network_buttons(self):
        """Complete and Fail are the network operators' (and billing's):
        not in a clerk's form, refused to a clerk"""
        pool = Pool()
        Order = pool.get('telecom.order')
        ModelData = pool.get('ir.model.data')
        view_id = ModelData.get_id('crm_telecom', 'order_view_form')
        clerk = create_staff('clerk_2', 'group_clerk')
        operator = create_staff('network_2',
            'crm_provisioning.group_network_operator', name="网络运维")
        subscriber = self.setup_line()
        self.configure(url=True)
        add, request = self.add_service(subscriber)

        def as_user(user):
            return (Transaction().set_user(user.id),
                Transaction().set_context(_check_access=True))
        for user, shown in [(clerk, False), (operator, True)]:
            with self.subTest(user=user.login):
                a, b = as_user(user)
                with a, b:
                    arch = Order.fields_view_get(view_id)['arch']
                    for button in ['complete', 'fail']:
                        self.assertEqual(
                            'name="%s"' % button in arch, shown)
        a, b = as_user(clerk)
        with a, b:
            for button in [Order.complete, Order.fail]:
                with self.assertRaises(AccessButtonError):
                    button([Order(add.id)])
        self.assertEqual(add.state, 'provisioning')
        a, b = as_user(operator)
        with a, b:
            # the operator reads what waits and answers for the network
            waiting, = Order.search([('state', '=', 'provisioning')])
            self.assertIn("Pending", waiting.progress)
            Order.complete([waiting])
        self.assertEqual(add.state, 'done')
        self.assertEqual(request.state, 'cancelled')

    @with_transaction()
    def test_progress(self):
        "The order form tells what the outbox did and how the network answered"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        clerk = self.chinese_clerk()
        subscriber = self.setup_line()
        activate, = subscriber.orders
        self.assertIn("未连接网络，已直接确认", self.progress(activate))
        self.configure(url=True)
        with Transaction().set_user(clerk.id):
            add, request = self.add_service(subscriber)
        steps = self.progress(add).splitlines()
        self.assertEqual(len(steps), 2)
        self.assertTrue(steps[0].startswith("已提交："))
        self.assertEqual(steps[1], "已发往网络：待发送，失败尝试 0 次")

        self.endpoint.fail(1)
        now = dt.datetime(2030, 1, 1, 8, 0)
        Request.send([request], now=now)
        self.assertEqual(self.progress(add).splitlines()[1],
            "已发往网络：待发送，失败尝试 1 次，最近发送 2030-01-01 08:00:00，"
            "下次重试 2030-01-01 08:00:30")
        Request.send([request], now=now + dt.timedelta(seconds=30))
        steps = self.progress(add).splitlines()
        self.assertEqual(steps[1:], [
                "已发往网络：已完成，失败尝试 1 次，最近发送 2030-01-01 08:00:30",
                "网络已确认：2030-01-01 08:00:30",
                "已完成：%s" % add.format_time(add.done_at),
                ])

        suspend = order('suspend', subscriber, suspension_reason='loss')
        pool.get('telecom.order').submit([suspend])
        request, = Request.search([('order', '=', suspend.id)])
        self.endpoint.refuse(1)
        Request.send([request], now=now)
        self.assertEqual(self.progress(suspend).splitlines()[2:], [
                "网络已拒绝：2030-01-01 08:00:00，原因：refused by the simulator",
                "失败：refused by the simulator",
                ])

    def progress(self, order):
        Order = Pool().get('telecom.order')
        with Transaction().set_context(language='zh_CN'):
            return Order(order.id).progress

    @with_transaction()
    def test_timeout_retried(self):
        "An answer slower than the timeout is retried with the same key"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(url=True, request_timeout=0.2)
        add, request = self.add_service(subscriber)
        self.endpoint.delay(0.6)
        Request.send([request])
        self.assertEqual(request.state, 'pending')
        self.assertEqual(request.attempts, 1)
        self.assertIn('Timeout', request.last_error)
        self.assertEqual(add.state, 'provisioning')

        self.endpoint.delay(0)
        Request.send([request], now=request.next_attempt_at)
        self.assertEqual(request.state, 'done')
        self.assertEqual(add.state, 'done')
        self.assertEqual(len(self.endpoint.received), 2)
        self.assertEqual(len(self.endpoint.executed), 1)
        self.assertEqual(len(subscriber.services), 1)

    @with_transaction()
    def test_acknowledged_twice(self):
        "A second acknowledgement of the same key changes nothing"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(url=True)
        suspend = order('suspend', subscriber,
            suspension_reason='customer_request')
        pool.get('telecom.order').submit([suspend])
        request, = Request.search([('order', '=', suspend.id)])
        self.endpoint.twice()
        Request.send([request])
        self.assertEqual(request.state, 'done')
        self.assertEqual(suspend.state, 'done')
        self.assertEqual(subscriber.state, 'suspended')
        response = request.response

        callback, = self.endpoint.callbacks
        self.assertEqual(callback['idempotency_key'],
            request.idempotency_key)
        self.assertEqual(Request.acknowledge(request.idempotency_key,
                'done', callback['message']), 'done')
        self.assertEqual(request.response, response)
        self.assertEqual([e.type for e in self.events(suspend)],
            ['suspend'])
        self.assertEqual(len(suspend.subscriber.events), 2)
        self.assertIsNone(Request.acknowledge('unknown', 'done'))

    @with_transaction()
    def test_asynchronous(self):
        "202: the order waits for the callback, asked again if none comes"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(url=True, max_attempts=2)
        add, request = self.add_service(subscriber)
        self.endpoint.asynchronous()
        now = dt.datetime.now().replace(microsecond=0)
        Request.send([request], now=now)
        self.assertEqual(request.state, 'sent')
        self.assertEqual(request.attempts, 0)
        self.assertEqual(request.next_attempt_at,
            now + dt.timedelta(seconds=30))
        self.assertEqual(add.state, 'provisioning')
        # asked again later unless the callback comes first
        self.assertTrue(close(self.task(request).scheduled_at,
                dt.datetime.now() + dt.timedelta(seconds=30)))

        # asked again, still waiting: one failed attempt
        now += dt.timedelta(seconds=30)
        Request.send([request], now=now)
        self.assertEqual((request.state, request.attempts), ('sent', 1))
        self.assertEqual(len(self.endpoint.executed), 1)

        callback = self.endpoint.callbacks[0]
        self.assertEqual(callback['idempotency_key'], request.idempotency_key)
        self.assertEqual(
            Request.acknowledge(request.idempotency_key, 'done'), 'done')
        self.assertEqual(add.state, 'done')
        self.assertEqual(len(subscriber.services), 1)
        self.assertEqual(
            Request.acknowledge(request.idempotency_key, 'done'), 'done')
        self.assertEqual(len(self.events(add)), 1)

    @with_transaction()
    def test_order_closed_by_hand(self):
        "Orders completed or failed by hand are not sent"
        pool = Pool()
        Order = pool.get('telecom.order')
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(url=True)
        add, request = self.add_service(subscriber)
        Order.complete([add])
        self.assertEqual(add.state, 'done')
        self.assertEqual(request.state, 'cancelled')

        remove = order('remove_service', subscriber,
            subscriber_service=subscriber.services[0].id)
        Order.submit([remove])
        request, = Request.search([('order', '=', remove.id)])
        self.assertEqual(request.get_payload()['service']['name'], "彩铃")
        Order.fail([remove], reason="customer changed their mind")
        Request.send([request])
        self.assertEqual(request.state, 'cancelled')
        self.assertEqual(self.endpoint.received, [])
        # nor can a dead request of a failed order start again
        Request._set_state([request], 'dead', ['cancelled'])
        with self.assertRaises(ProvisioningError):
            Request.retry([request])

    # --- SMS ------------------------------------------------------------

    @with_transaction()
    def test_sms(self):
        "Notifications go through the outbox to the SMS gateway"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        Queue = pool.get('ir.queue')
        subscriber = self.setup_line()
        self.configure()
        local, = Request.browse(Request.notify([{'subscriber': subscriber,
                        'event': 'reminder', 'text': "您的话费已逾期"}]))
        self.assertEqual((local.channel, local.action, local.state,
                local.response), ('sms', 'reminder', 'done', 'local'))

        self.configure(sms_url=True)
        texts = ["您的账单已出", "您已停机"]
        messages = Request.browse(Request.notify([
                {'subscriber': subscriber, 'event': 'bill_issued',
                    'text': texts[0]},
                {'subscriber': subscriber, 'event': 'suspension',
                    'text': texts[1]},
                ]))
        self.assertEqual({m.state for m in messages}, {'pending'})
        # one task for the batch
        task = self.task(messages[0])
        self.assertEqual(list(task.data['instances']),
            [m.id for m in messages])
        Queue(task.id).run()
        self.assertEqual({m.state for m in messages}, {'done'})
        number = subscriber.number.number
        self.assertEqual(
            [(r['kind'], r['body']) for r in self.endpoint.received],
            [('sms', {'to': number, 'text': texts[0],
                        'event': 'bill_issued'}),
                ('sms', {'to': number, 'text': texts[1],
                        'event': 'suspension'})])

    @with_transaction()
    def test_sms_batches(self):
        "Many messages: one task per batch, not one per message"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(sms_url=True)
        getint = tconfig.getint
        with mock.patch.object(tconfig, 'getint',
                lambda section, option, default=None: 3
                if (section, option) == ('queue', 'batch_size')
                else getint(section, option, default=default)):
            messages = Request.browse(Request.notify([
                        {'subscriber': subscriber, 'event': 'reminder',
                            'text': str(i)}
                        for i in range(7)]))
        tasks = [m.queue_task for m in messages]
        self.assertEqual(len(set(tasks)), 3)
        self.assertEqual([tasks.count(t) for t in sorted(set(tasks))],
            [3, 3, 1])

    # --- the worker (committed transactions) ------------------------------

    def committed(self, func):
        "Run func in a transaction of its own and commit it"
        extras = {}
        while True:
            with Transaction().start(DB_NAME, 0, **extras) as transaction:
                try:
                    result = func()
                except TransactionError as exception:
                    transaction.rollback()
                    exception.fix(extras)
                    continue
                transaction.commit()
                # the tests run the tasks themselves
                transaction.tasks.clear()
                return result

    def pull(self):
        "What trytond-worker does first: take the next task that is due"
        def pull():
            transaction = Transaction()
            Queue = Pool().get('ir.queue')
            if backend.name == 'postgresql':
                task_id, _ = Queue.pull(transaction.database,
                    transaction.connection, name=QUEUE)
                return task_id
            # Queue.pull's query does not run on SQLite (nor does
            # trytond-worker): the same choice in Python
            now = dt.datetime.now()
            tasks = sorted((t for t in Queue.search([
                            ('name', '=', QUEUE),
                            ('dequeued_at', '=', None),
                            ])
                    if not t.scheduled_at or t.scheduled_at <= now),
                key=lambda t: (bool(t.scheduled_at), t.scheduled_at or now,
                    t.id))
            if tasks:
                Queue.write(tasks[:1], {'dequeued_at': now})
                return tasks[0].id
        return self.committed(pull)

    def run_queue(self):
        "trytond-worker's loop until no task is due: how many ran"
        count = 0
        while task_id := self.pull():
            run_task(DB_NAME, task_id)
            Transaction().tasks.clear()
            count += 1
        return count

    def later(self, seconds):
        "Let the outbox's time pass: its schedule moves back"
        def move():
            pool = Pool()
            Request = pool.get('telecom.provisioning.request')
            Queue = pool.get('ir.queue')
            delta = dt.timedelta(seconds=seconds)
            for request in Request.search([('state', 'in', ['pending', 'sent'])]):
                if request.next_attempt_at:
                    Request._update([request], {
                            'next_attempt_at': request.next_attempt_at - delta})
            for task in Queue.search([('name', '=', QUEUE),
                        ('dequeued_at', '=', None),
                        ('scheduled_at', '!=', None)]):
                task.scheduled_at -= delta
                task.save()
        self.committed(move)

    def setup_committed(self, name="彩铃", **values):
        "A committed add-service order waiting in the outbox"
        def setup():
            subscriber = self.setup_line()
            self.configure(url=True, **values)
            add, request = self.add_service(subscriber, name)
            return add.id, request.id
        ids = self.committed(setup)
        self.addCleanup(self.committed, self.clean_outbox)
        return ids

    def clean_outbox(self):
        "No open request nor task left for the next test"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        Queue = pool.get('ir.queue')
        self.configure()
        Request._set_state(Request.search([]), 'cancelled',
            ['pending', 'sent'])
        queue = Queue.__table__()
        cursor = Transaction().connection.cursor()
        now = dt.datetime.now()
        cursor.execute(*queue.update(
                [queue.dequeued_at, queue.finished_at], [now, now],
                where=(queue.name == QUEUE) & (queue.finished_at == Null)))

    def state(self, request_id):
        with Transaction().start(DB_NAME, 0):
            Request = Pool(DB_NAME).get('telecom.provisioning.request')
            request = Request(request_id)
            order = request.order
            return (request.state, request.attempts, order.state,
                len(order.subscriber.services))

    def test_worker_backoff(self):
        "The queue runs each attempt when it is due, not before"
        add_id, request_id = self.setup_committed()
        self.endpoint.fail(3)
        for attempts, delay in [(1, 30), (2, 60), (3, 120)]:
            self.assertEqual(self.run_queue(), 1)
            self.assertEqual(self.state(request_id),
                ('pending', attempts, 'provisioning', 0))
            # not due yet: the worker finds nothing to run
            self.later(delay - 10)
            self.assertEqual(self.run_queue(), 0)
            self.later(10)
        self.assertEqual(self.run_queue(), 1)
        self.assertEqual(self.state(request_id), ('done', 3, 'done', 1))
        self.assertEqual(len(self.endpoint.received), 4)
        self.assertEqual(len(self.endpoint.executed), 1)

    def test_worker_crash(self):
        """A worker killed after the endpoint executed the request loses
        nothing: the cron queues it again and it goes with the same key"""
        pool = Pool(DB_NAME)
        add_id, request_id = self.setup_committed()
        post = requests.post

        def post_then_crash(*args, **kwargs):
            post(*args, **kwargs)
            raise Crash()

        task_id = self.pull()
        with mock.patch('requests.post', post_then_crash):
            with self.assertRaises(Crash):
                run_task(DB_NAME, task_id)
        self.assertEqual(len(self.endpoint.executed), 1)
        self.assertEqual(self.state(request_id),
            ('pending', 0, 'provisioning', 0))
        # the task is taken and never finished: no worker runs it again
        self.assertEqual(self.run_queue(), 0)

        # while it might still be running, it is left alone
        self.requeue(-10)
        self.assertEqual(self.run_queue(), 0)
        self.requeue(10)
        self.assertEqual(self.run_queue(), 1)

        with Transaction().start(DB_NAME, 0):
            Request = pool.get('telecom.provisioning.request')
            request = Request(request_id)
            self.assertEqual(request.state, 'done')
            self.assertEqual(request.order.state, 'done')
            self.assertEqual(len(self.events(request.order)), 1)
            key = request.idempotency_key
        self.assertEqual([r['key'] for r in self.endpoint.received],
            [key, key])
        self.assertEqual(list(self.endpoint.executed), [key])
        # and nothing more to do
        self.requeue(10)
        self.assertEqual(self.run_queue(), 0)

    def requeue(self, after=0):
        "The stalled-request cron, run when a task would be stalled, +after"
        def requeue():
            pool = Pool()
            Request = pool.get('telecom.provisioning.request')
            Configuration = pool.get('telecom.configuration')
            Request.requeue_stalled(now=dt.datetime.now()
                + Request._stalled_after(Configuration(1))
                + dt.timedelta(seconds=after))
        self.committed(requeue)

    def queue_task(self, request_id):
        with Transaction().start(DB_NAME, 0):
            return Pool(DB_NAME).get('telecom.provisioning.request')(
                request_id).queue_task

    def test_task_never_run(self):
        """Without a worker a task queued outside a server request (a
        script) waits for nobody: the cron queues the request again"""
        add_id, request_id = self.setup_committed()
        task = self.queue_task(request_id)
        self.requeue(-10)
        self.assertEqual(self.queue_task(request_id), task)
        self.requeue(10)
        self.assertNotEqual(self.queue_task(request_id), task)
        # both tasks run: the request goes once
        self.assertEqual(self.run_queue(), 2)
        self.assertEqual(self.state(request_id), ('done', 0, 'done', 1))
        self.assertEqual(len(self.endpoint.received), 1)

    def test_worker_dead_notifies(self):
        "A request given up by a task leaves a notification for billing"
        pool = Pool(DB_NAME)
        add_id, request_id = self.setup_committed(max_attempts=1)
        self.endpoint.fail(1)
        self.assertEqual(self.run_queue(), 1)
        with Transaction().start(DB_NAME, 0):
            Request = pool.get('telecom.provisioning.request')
            Notification = pool.get('res.notification')
            request = Request(request_id)
            self.assertEqual(request.state, 'dead')
            self.assertEqual(request.order.state, 'provisioning')
            notification, = Notification.search([
                    ('model', '=', Request.__name__),
                    ('records', '=', json.dumps([request_id])),
                    ])
            self.assertEqual(notification.user.login, 'billing')

    def test_worker_not_applied(self):
        """An acknowledgement the order cannot take is undone and counts
        as a failed attempt"""
        pool = Pool(DB_NAME)
        add_id, request_id = self.setup_committed(max_attempts=2)
        # the order's checks refuse it by the time the network answers
        with mock.patch.object(pool.get('telecom.order'),
                '_check_add_service', side_effect=ProvisioningError("不能办理")):
            self.assertEqual(self.run_queue(), 1)
            self.assertEqual(self.state(request_id),
                ('pending', 1, 'provisioning', 0))
            self.later(30)
            self.assertEqual(self.run_queue(), 1)
        self.assertEqual(self.state(request_id),
            ('dead', 2, 'provisioning', 0))
        with Transaction().start(DB_NAME, 0):
            request = pool.get('telecom.provisioning.request')(request_id)
            self.assertEqual(request.last_error, "不能办理")
        self.assertEqual(len(self.endpoint.executed), 1)

    @unittest.skipUnless(backend.name == 'postgresql',
        "row locks need PostgreSQL")
    def test_worker_waits_for_sender(self):
        "Two senders never send the same request at the same time"
        pool = Pool(DB_NAME)
        add_id, request_id = self.setup_committed()
        task_id = self.pull()

        with Transaction().start(DB_NAME, 0) as other:
            # another sender (Send Now) holds the request
            Request = pool.get('telecom.provisioning.request')
            table = Request.__table__()
            other.connection.cursor().execute(*table.select(table.id,
                    where=table.id == request_id, for_=For('UPDATE')))
            worker = threading.Thread(target=run_task,
                args=(DB_NAME, task_id))
            worker.start()
            worker.join(60)
            self.assertEqual(self.endpoint.received, [])
        # Tryton's worker put the task back for a little later
        self.later(3600)
        self.assertEqual(self.run_queue(), 1)
        self.assertEqual(len(self.endpoint.received), 1)
        self.assertEqual(self.state(request_id)[0], 'done')

    # --- the server and its worker ----------------------------------------

    def draft_add_service(self):
        "A committed draft add-service order"
        def setup():
            subscriber = self.setup_line()
            self.configure(url=True)
            regions, brands, products = setup_reference()
            return order('add_service', subscriber,
                service=products["彩铃"]).id
        order_id = self.committed(setup)
        self.addCleanup(self.committed, self.clean_outbox)
        return order_id

    def order_state(self, order_id):
        with Transaction().start(DB_NAME, 0):
            order = Pool(DB_NAME).get('telecom.order')(order_id)
            event = order.subscriber.events[0]
            return (order.state, len(order.subscriber.services),
                event.user.login if event.user else None, event.step)

    def test_client_submit(self):
        """A clerk's Submit in the client: the network has the request when
        the answer comes back (no worker: the server sends it after the
        commit)"""
        order_id = self.draft_add_service()
        client = self.client()
        clerk = self.login(client, 'clerk')
        response = client.post('/%s/rpc/' % self.db_name, headers=clerk,
            json={'method': 'model.telecom.order.submit',
                'params': [[order_id], {}], 'id': 1})
        self.assertEqual(response.status_code, 200, response.data)
        self.assertIsNone(json.loads(response.data).get('error'))
        self.assertEqual(len(self.endpoint.executed), 1)
        # the server's task applied it for the clerk
        self.assertEqual(self.order_state(order_id),
            ('done', 1, 'clerk', 'network'))

    @unittest.skipUnless(backend.name == 'postgresql',
        "trytond-worker listens to PostgreSQL")
    def test_trytond_worker(self):
        "trytond-worker sends a submitted order within seconds"
        with tempfile.NamedTemporaryFile('w', suffix='.conf',
                delete=False) as conf:
            conf.write('[database]\nuri = %s\n[queue]\nworker = True\n' % (
                    tconfig.get('database', 'uri'),))
        self.addCleanup(os.unlink, conf.name)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
                filter(None, [ROOT, os.environ.get('PYTHONPATH')])))
        worker = subprocess.Popen([
                os.path.join(os.path.dirname(sys.executable),
                    'trytond-worker'),
                '-c', conf.name, '-d', DB_NAME, '-n', '1', '--name', QUEUE],
            env=env, start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def stop():
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
        self.addCleanup(stop)

        def submit(order_id):
            def submit():
                Order = Pool().get('telecom.order')
                Order.submit([Order(order_id)])
            self.committed(submit)
            start = time.monotonic()
            while time.monotonic() - start < 60:
                if self.order_state(order_id)[0] == 'done':
                    return time.monotonic() - start
                time.sleep(0.1)
            self.fail("order %s not provisioned" % order_id)
        # the first one waits for the worker to start
        submit(self.draft_add_service())
        self.assertLess(submit(self.draft_add_service()), 5)
        self.assertEqual(len(self.endpoint.executed), 2)

    # --- the acknowledgement route ----------------------------------------

    def test_ack_route(self):
        "The network acknowledges asynchronously over HTTP"
        pool = Pool(DB_NAME)
        client = self.client()
        url = '/%s/crm_telecom/provisioning/ack' % self.db_name

        def setup():
            User = pool.get('res.user')
            lines = [self.setup_line(), self.setup_line()]
            self.configure(url=True)
            clerk, = User.search([('login', '=', 'clerk')])
            with Transaction().set_user(clerk.id):
                orders = [self.add_service(line, name)
                    for line, name in zip(lines, ["彩铃", "手机报"])]
            return [(o.id, r.id, r.idempotency_key) for o, r in orders]
        (done_id, _, done_key), (failed_id, _, failed_key) = (
            self.committed(setup))
        self.addCleanup(self.committed, self.clean_outbox)
        self.endpoint.asynchronous()
        self.assertEqual(self.run_queue(), 2)

        def order_state(order_id):
            with Transaction().start(DB_NAME, 0):
                order = pool.get('telecom.order')(order_id)
                return (order.state,
                    len(order.subscriber.services) if order.subscriber
                    else None, order.failure_reason)
        self.assertEqual(order_state(done_id)[0], 'provisioning')

        def ack(key, status='done', auth=None, **body):
            headers = {}
            if auth is not False:
                headers['Authorization'] = 'Bearer ' + (auth or self.ack_key)
            return client.post(url, headers=headers, json={
                    'idempotency_key': key, 'status': status, **body})

        self.assertEqual(ack(done_key, auth=False).status_code, 401)
        self.assertEqual(ack(done_key, auth='wrong').status_code, 401)
        self.assertEqual(ack(done_key, auth=self.rest_key).status_code, 401)
        self.assertEqual(ack(done_key, status='maybe').status_code, 400)
        self.assertEqual(ack('no-such-key').status_code, 404)
        self.assertEqual(order_state(done_id)[0], 'provisioning')

        callbacks = {c['idempotency_key']: c
            for c in self.endpoint.callbacks}
        self.assertEqual(set(callbacks), {done_key, failed_key})
        body = callbacks[done_key]
        response = ack(done_key, body['status'], message=body['message'])
        self.assertEqual(response.status_code, 200, response.data)
        self.assertEqual(json.loads(response.data),
            {'idempotency_key': done_key, 'state': 'done'})
        self.assertEqual(order_state(done_id), ('done', 1, None))
        # the same acknowledgement again: nothing more happens
        response = ack(done_key, body['status'], message=body['message'])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(order_state(done_id), ('done', 1, None))
        with Transaction().start(DB_NAME, 0):
            order = pool.get('telecom.order')(done_id)
            # the network's user delivered it; the clerk asked for it
            event, = self.events(order)
            self.assertEqual((event.user.login, event.step),
                ('clerk', 'network'))

        response = ack(failed_key, 'failed', message="号码不支持该业务")
        self.assertEqual(json.loads(response.data)['state'], 'dead')
        self.assertEqual(order_state(failed_id),
            ('failed', 0, "号码不支持该业务"))
        # the clerk who submitted them is told of both answers
        with Transaction().start(DB_NAME, 0):
            Notification = pool.get('res.notification')
            notifications = Notification.search([
                    ('user.login', '=', 'clerk'),
                    ('model', '=', 'telecom.order'),
                    ('records', 'in', [json.dumps([i])
                            for i in [done_id, failed_id]]),
                    ], order=[('id', 'ASC')])
            self.assertEqual(
                [(json.loads(n.records), n.label.split()[2])
                    for n in notifications],
                [([done_id], 'done:'), ([failed_id], 'failed:')])
            self.assertIn("号码不支持该业务", notifications[1].label)
            Notification.delete(notifications)
            Transaction().commit()
        # a late "done" for a refused request changes nothing either
        self.assertEqual(json.loads(ack(failed_key).data)['state'], 'dead')
        self.assertEqual(order_state(failed_id)[0], 'failed')


del RouteTestCase
