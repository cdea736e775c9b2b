"""The provisioning and SMS outbox against the local endpoint simulator.

One database for the class: tests decorated with with_transaction() roll
back; the worker and route tests commit (the worker sends each request in
its own transaction) and leave no open request behind."""
import datetime as dt
import itertools
import json
import unittest
from unittest import mock

import requests
from sql import For

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase, with_transaction
from trytond.transaction import Transaction, TransactionError

from crm_provisioning.exceptions import ProvisioningError
from crm_telecom.tests.tools import (
    activation,
    create_customer,
    create_numbers,
    order,
    setup_reference,
)
from data.simulator import Simulator

PLAN = "神州行 18元畅聊卡"
SECOND = dt.timedelta(seconds=1)


class Crash(BaseException):
    "The process dies (like SystemExit): nothing is caught on the way"


class ProvisioningTestCase(RouteTestCase):
    "Provisioning and notification outbox"
    module = 'crm_provisioning'
    _lines = itertools.count(1)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = Simulator().start()
        cls.addClassCleanup(cls.simulator.stop)

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        User = pool.get('res.user')
        Application = pool.get('res.user.application')
        ModelData = pool.get('ir.model.data')
        billing = ModelData.get_id('crm_telecom', 'group_billing')
        User.create([
                {'login': 'billing', 'name': "计费账务员",
                    'groups': [('add', [billing])]},
                {'login': 'billing_left', 'name': "已离职账务员",
                    'active': False, 'groups': [('add', [billing])]},
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
        self.simulator.reset()

    # --- helpers ----------------------------------------------------------

    def configure(self, url=False, sms_url=False, **values):
        "Endpoints: True = the simulator, False = none (local)"
        Configuration = Pool().get('telecom.configuration')
        configuration = Configuration(1)
        configuration.provisioning_url = (
            self.simulator.provision_url if url else None)
        configuration.sms_url = self.simulator.sms_url if sms_url else None
        configuration.request_timeout = values.get('request_timeout', 2.0)
        configuration.max_attempts = values.get('max_attempts', 6)
        configuration.retry_delay = values.get('retry_delay', 30)
        configuration.save()

    def setup_line(self):
        "An active line, activated in local mode"
        Order = Pool().get('telecom.order')
        i = next(self._lines)
        regions, brands, products = setup_reference()
        customer = create_customer(name="客户%s" % i, sequence=i)
        number, = create_numbers('1380013%04d' % i)
        activate = activation(customer, number, brands['SZX'],
            products[PLAN])
        Order.process([activate])
        self.assertEqual(activate.state, 'done')
        return activate.subscriber

    def add_service(self, subscriber, name="彩铃"):
        "A submitted and provisioned add-service order and its request"
        pool = Pool()
        Order = pool.get('telecom.order')
        Request = pool.get('telecom.provisioning.request')
        regions, brands, products = setup_reference()
        add = order('add_service', subscriber, service=products[name])
        Order.process([add])
        request, = Request.search([('order', '=', add.id)])
        return add, request

    def events(self, order):
        return [e for e in order.subscriber.events if e.order == order]

    # --- local mode -------------------------------------------------------

    @with_transaction()
    def test_local_mode(self):
        "Without endpoints orders and messages are acknowledged at once"
        pool = Pool()
        Order = pool.get('telecom.order')
        Request = pool.get('telecom.provisioning.request')
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

        add, request = self.add_service(subscriber, "彩铃")
        self.assertEqual(add.state, 'done')
        self.assertEqual(request.get_payload()['service']['name'], "彩铃")
        suspend = order('suspend', subscriber, suspension_reason='arrears')
        Order.process([suspend])
        self.assertEqual(suspend.state, 'done')
        request, = Request.search([('order', '=', suspend.id)])
        payload = request.get_payload()
        self.assertEqual(payload['suspension_reason'], 'arrears')
        self.assertEqual([s['name'] for s in payload['services']], ["彩铃"])
        resume = order('resume', subscriber)
        Order.process([resume])
        request, = Request.search([('order', '=', resume.id)])
        self.assertEqual([s['name'] for s in request.get_payload()[
                    'services']], ["彩铃"])

        # a transfer changes nothing on the network
        new_owner = create_customer(name="新机主", sequence=900)
        transfer = order('transfer', subscriber, new_owner=new_owner.id,
            account=pool.get('telecom.account').create(
                [{'payer': new_owner.id}])[0].id)
        Order.process([transfer])
        self.assertEqual(transfer.state, 'done')
        self.assertEqual(Request.search([('order', '=', transfer.id)]), [])
        self.assertEqual(self.simulator.received, [])

    # --- with the endpoint ------------------------------------------------

    @with_transaction()
    def test_order_waits_for_acknowledgement(self):
        "With an endpoint the order stays provisioning until acknowledged"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(url=True)
        add, request = self.add_service(subscriber)
        self.assertEqual(add.state, 'provisioning')
        self.assertEqual(request.state, 'pending')
        self.assertEqual(subscriber.services, ())
        self.assertEqual(self.simulator.received, [])

        Request.send([request])
        self.assertEqual(request.state, 'done')
        self.assertEqual(add.state, 'done')
        service, = subscriber.services
        self.assertEqual(service.product, add.service)
        received, = self.simulator.received
        self.assertEqual(received['key'], request.idempotency_key)
        self.assertEqual(received['body'], request.get_payload())
        self.assertIn('SIM', request.response)

    @with_transaction()
    def test_retry_backoff(self):
        "The endpoint fails three times, then takes the order"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(url=True)
        add, request = self.add_service(subscriber)
        self.simulator.fail(3)

        now = dt.datetime(2030, 1, 1, 8, 0)
        for attempts, delay in [(1, 30), (2, 60), (3, 120)]:
            Request.send([request], now=now)
            self.assertEqual(request.state, 'pending')
            self.assertEqual(request.attempts, attempts)
            self.assertEqual(request.next_attempt_at,
                now + dt.timedelta(seconds=delay))
            self.assertIn('503', request.last_error)
            self.assertEqual(add.state, 'provisioning')
            # the worker leaves it alone until the delay has passed
            self.assertNotIn(request.id,
                Request.due(now + dt.timedelta(seconds=delay) - SECOND))
            now += dt.timedelta(seconds=delay)
            self.assertIn(request.id, Request.due(now))

        Request.send([request], now=now)
        self.assertEqual(request.state, 'done')
        self.assertEqual(request.attempts, 3)
        self.assertEqual(request.acknowledged_at, now)
        self.assertEqual(add.state, 'done')
        self.assertEqual([s.product for s in subscriber.services],
            [add.service])
        self.assertEqual([e.type for e in self.events(add)],
            ['add_service'])
        keys = {r['key'] for r in self.simulator.received}
        self.assertEqual(keys, {request.idempotency_key})
        self.assertEqual(len(self.simulator.received), 4)
        self.assertEqual(len(self.simulator.executed), 1)

    @with_transaction()
    def test_dead_request(self):
        "After max attempts the request is dead and billing is alerted"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        User = pool.get('res.user')
        subscriber = self.setup_line()
        self.configure(url=True, max_attempts=3)
        add, request = self.add_service(subscriber)
        self.simulator.fail(100)

        now = dt.datetime.now().replace(microsecond=0)
        for i in range(3):
            Request.send([request], now=now)
            now = request.next_attempt_at or now
        self.assertEqual(request.state, 'dead')
        self.assertEqual(request.attempts, 3)
        self.assertIsNone(request.next_attempt_at)
        self.assertEqual(add.state, 'provisioning')
        self.assertEqual(subscriber.services, ())
        self.assertNotIn(request.id, Request.due(now + dt.timedelta(days=1)))

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
        self.simulator.reset()
        Request.retry([request])
        self.assertEqual((request.state, request.attempts),
            ('pending', 0))
        Request.send_now([request])
        self.assertEqual(request.state, 'done')
        self.assertEqual(add.state, 'done')

    @with_transaction()
    def test_refused(self):
        "The network refuses the order: the order fails"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(url=True)
        add, request = self.add_service(subscriber)
        self.simulator.refuse(1)
        Request.send([request])
        self.assertEqual(request.state, 'dead')
        self.assertEqual(add.state, 'failed')
        self.assertEqual(add.failure_reason, "refused by the simulator")
        self.assertEqual(subscriber.services, ())
        self.assertEqual(Transaction().user_notifications, [])

    @with_transaction()
    def test_timeout_retried(self):
        "An answer slower than the timeout is retried with the same key"
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        subscriber = self.setup_line()
        self.configure(url=True, request_timeout=0.2)
        add, request = self.add_service(subscriber)
        self.simulator.delay(0.6)
        Request.send([request])
        self.assertEqual(request.state, 'pending')
        self.assertEqual(request.attempts, 1)
        self.assertIn('Timeout', request.last_error)
        self.assertEqual(add.state, 'provisioning')

        self.simulator.delay(0)
        Request.send([request])
        self.assertEqual(request.state, 'done')
        self.assertEqual(add.state, 'done')
        self.assertEqual(len(self.simulator.received), 2)
        self.assertEqual(len(self.simulator.executed), 1)
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
        pool.get('telecom.order').process([suspend])
        request, = Request.search([('order', '=', suspend.id)])
        self.simulator.twice()
        Request.send([request])
        self.assertEqual(request.state, 'done')
        self.assertEqual(suspend.state, 'done')
        self.assertEqual(subscriber.state, 'suspended')
        response = request.response

        callback, = self.simulator.callbacks
        self.assertEqual(callback['body']['idempotency_key'],
            request.idempotency_key)
        self.assertEqual(Request.acknowledge(request.idempotency_key,
                'done', callback['body']['message']), 'done')
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
        self.simulator.asynchronous()
        now = dt.datetime.now().replace(microsecond=0)
        Request.send([request], now=now)
        self.assertEqual(request.state, 'sent')
        self.assertEqual(request.attempts, 0)
        self.assertEqual(request.next_attempt_at,
            now + dt.timedelta(seconds=30))
        self.assertEqual(add.state, 'provisioning')

        # asked again, still waiting: one failed attempt
        now += dt.timedelta(seconds=30)
        self.assertIn(request.id, Request.due(now))
        Request.send([request], now=now)
        self.assertEqual((request.state, request.attempts), ('sent', 1))
        self.assertEqual(len(self.simulator.executed), 1)

        callback = self.simulator.callbacks[0]['body']
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
        Order.process([remove])
        request, = Request.search([('order', '=', remove.id)])
        self.assertEqual(request.get_payload()['service']['name'], "彩铃")
        Order.fail([remove], reason="customer changed their mind")
        Request.send([request])
        self.assertEqual(request.state, 'cancelled')
        self.assertEqual(self.simulator.received, [])
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
        subscriber = self.setup_line()
        self.configure()
        local, = Request.notify([{'subscriber': subscriber,
                    'event': 'reminder', 'text': "您的话费已逾期"}])
        self.assertEqual((local.channel, local.action, local.state,
                local.response), ('sms', 'reminder', 'done', 'local'))

        self.configure(sms_url=True)
        texts = ["您的账单已出", "您已停机"]
        messages = Request.notify([
                {'subscriber': subscriber, 'event': 'bill_issued',
                    'text': texts[0]},
                {'subscriber': subscriber, 'event': 'suspension',
                    'text': texts[1]},
                ])
        self.assertEqual({m.state for m in messages}, {'pending'})
        Request.send(messages)
        self.assertEqual({m.state for m in messages}, {'done'})
        number = subscriber.number.number
        self.assertEqual(
            [(r['kind'], r['body']) for r in self.simulator.received],
            [('sms', {'to': number, 'text': texts[0],
                        'event': 'bill_issued'}),
                ('sms', {'to': number, 'text': texts[1],
                        'event': 'suspension'})])

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
                return result

    def test_worker_backoff(self):
        "The cron sends due requests only, each in its own transaction"
        pool = Pool(DB_NAME)

        def setup():
            subscriber = self.setup_line()
            self.configure(url=True)
            add, request = self.add_service(subscriber)
            return add.id, request.id
        add_id, request_id = self.committed(setup)
        self.addCleanup(self.committed, self.configure)
        self.simulator.fail(3)

        def state():
            with Transaction().start(DB_NAME, 0):
                Request = pool.get('telecom.provisioning.request')
                request = Request(request_id)
                order = request.order
                return (request.state, request.attempts,
                    request.next_attempt_at, order.state,
                    len(order.subscriber.services))

        now = dt.datetime.now().replace(microsecond=0)
        for attempts, delay in [(1, 30), (2, 60), (3, 120)]:
            self.committed(lambda: pool.get(
                    'telecom.provisioning.request').send_pending(now=now))
            self.assertEqual(state(), ('pending', attempts,
                    now + dt.timedelta(seconds=delay), 'provisioning', 0))
            # not due yet: nothing is sent
            received = len(self.simulator.received)
            self.committed(lambda: pool.get(
                    'telecom.provisioning.request').send_pending(
                    now=now + dt.timedelta(seconds=delay) - SECOND))
            self.assertEqual(len(self.simulator.received), received)
            now += dt.timedelta(seconds=delay)
        self.committed(lambda: pool.get(
                'telecom.provisioning.request').send_pending(now=now))
        self.assertEqual(state(), ('done', 3, None, 'done', 1))
        self.assertEqual(len(self.simulator.received), 4)
        self.assertEqual(len(self.simulator.executed), 1)

    def test_worker_crash(self):
        "A crash after the endpoint executed the request loses nothing"
        pool = Pool(DB_NAME)

        def setup():
            subscriber = self.setup_line()
            self.configure(url=True)
            add, request = self.add_service(subscriber)
            return add.id, request.id
        add_id, request_id = self.committed(setup)
        self.addCleanup(self.committed, self.configure)

        post = requests.post

        def post_then_crash(*args, **kwargs):
            post(*args, **kwargs)
            raise Crash()

        with mock.patch('requests.post', post_then_crash):
            with self.assertRaises(Crash):
                self.committed(lambda: pool.get(
                        'telecom.provisioning.request').send_pending())
        self.assertEqual(len(self.simulator.executed), 1)

        with Transaction().start(DB_NAME, 0):
            Request = pool.get('telecom.provisioning.request')
            request = Request(request_id)
            self.assertEqual((request.state, request.attempts),
                ('pending', 0))
            self.assertEqual(request.order.state, 'provisioning')
            key = request.idempotency_key

        self.committed(lambda: pool.get(
                'telecom.provisioning.request').send_pending())
        with Transaction().start(DB_NAME, 0):
            Request = pool.get('telecom.provisioning.request')
            request = Request(request_id)
            self.assertEqual(request.state, 'done')
            self.assertEqual(request.order.state, 'done')
            self.assertEqual(len(self.events(request.order)), 1)
        self.assertEqual([r['key'] for r in self.simulator.received],
            [key, key])
        self.assertEqual(list(self.simulator.executed), [key])

    def test_worker_dead_notifies(self):
        "A request given up by the cron leaves a notification for billing"
        pool = Pool(DB_NAME)

        def setup():
            subscriber = self.setup_line()
            self.configure(url=True, max_attempts=1)
            add, request = self.add_service(subscriber)
            return add.id, request.id
        add_id, request_id = self.committed(setup)
        self.addCleanup(self.committed, self.configure)
        self.simulator.fail(1)
        self.committed(lambda: pool.get(
                'telecom.provisioning.request').send_pending())
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

    @unittest.skipUnless(backend.name == 'postgresql',
        "row locks need PostgreSQL")
    def test_worker_skips_locked(self):
        "Two workers never send the same request at the same time"
        pool = Pool(DB_NAME)

        def setup():
            subscriber = self.setup_line()
            self.configure(url=True)
            add, request = self.add_service(subscriber)
            return request.id
        request_id = self.committed(setup)
        self.addCleanup(self.committed, self.configure)

        with Transaction().start(DB_NAME, 0) as other:
            # another worker is sending it
            Request = pool.get('telecom.provisioning.request')
            table = Request.__table__()
            other.connection.cursor().execute(*table.select(table.id,
                    where=table.id == request_id, for_=For('UPDATE')))
            with other.new_transaction() as transaction:
                Request.send_pending()
                transaction.commit()
            self.assertEqual(self.simulator.received, [])
        self.committed(lambda: pool.get(
                'telecom.provisioning.request').send_pending())
        self.assertEqual(len(self.simulator.received), 1)

    # --- the acknowledgement route ----------------------------------------

    def test_ack_route(self):
        "The network acknowledges asynchronously over HTTP"
        pool = Pool(DB_NAME)
        client = self.client()
        url = '/%s/crm_telecom/provisioning/ack' % self.db_name

        def setup():
            lines = [self.setup_line(), self.setup_line()]
            self.configure(url=True)
            orders = [self.add_service(line, name)
                for line, name in zip(lines, ["彩铃", "手机报"])]
            return [(o.id, r.id, r.idempotency_key) for o, r in orders]
        (done_id, _, done_key), (failed_id, _, failed_key) = (
            self.committed(setup))
        self.addCleanup(self.committed, self.configure)
        self.simulator.asynchronous()
        self.committed(lambda: pool.get(
                'telecom.provisioning.request').send_pending())

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

        callbacks = {c['body']['idempotency_key']: c['body']
            for c in self.simulator.callbacks}
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
            self.assertEqual(len(self.events(order)), 1)
            self.assertEqual(self.events(order)[0].user.login, 'network')

        response = ack(failed_key, 'failed', message="号码不支持该业务")
        self.assertEqual(json.loads(response.data)['state'], 'dead')
        self.assertEqual(order_state(failed_id),
            ('failed', 0, "号码不支持该业务"))
        # a late "done" for a refused request changes nothing either
        self.assertEqual(json.loads(ack(failed_key).data)['state'], 'dead')
        self.assertEqual(order_state(failed_id)[0], 'failed')


del RouteTestCase
