"""The outbox of calls to the network (provisioning) and the SMS gateway.

A request is written in the transaction of the business change that needs
it, with an ir.queue task that sends it once that transaction commits
(trytond-worker). The request is the record of what was asked and answered:
its idempotency key goes with every attempt and the endpoint executes a key
once, so a task killed between the call and the commit is simply run again.
A failed attempt queues the next one, scheduled with an exponential backoff;
after the last one the request is dead and the billing operators are told."""
import datetime as dt
import json
import logging
import uuid
from collections import defaultdict

import requests as http
from sql import Null
from sql.conditionals import Coalesce

from trytond import config
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from crm_telecom.bulk import BulkWriter
from crm_telecom.order import ORDER_TYPES, PROGRESS_NETWORK
from crm_telecom.sql_tools import clear_cache

from .exceptions import ProvisioningError

# the columns the outbox's entry points write when they create requests
REQUEST_COLUMNS = ['channel', 'action', 'order', 'subscriber', 'number',
    'payload', 'idempotency_key', 'state', 'attempts', 'next_attempt_at',
    'response', 'acknowledged_at']
logger = logging.getLogger(__name__)

APPLICATION = 'crm_telecom_provisioning'  # routes.py authenticates with it
CHANNELS = [
    ('network', "Network"),
    ('sms', "SMS"),
    ]
SMS_EVENTS = [
    ('bill_issued', "Bill Issued"),
    ('reminder', "Payment Reminder"),
    ('suspension', "Suspension Notice"),
    ('restoration', "Restoration Notice"),
    ]
STATES = [
    ('pending', "Pending"),
    ('sent', "Waiting for Acknowledgement"),
    ('done', "Done"),
    ('dead', "Dead"),
    ('cancelled', "Cancelled"),
    ]
OPEN_STATES = ['pending', 'sent']
# orders that change what the network knows about a line (a transfer only
# changes who pays)
NETWORK_ORDER_TYPES = {
    'activate', 'change_plan', 'add_service', 'remove_service', 'suspend',
    'resume', 'terminate'}
LOCAL = 'local'
MAX_TEXT = 4000
# the ir.queue name of the outbox's tasks: a worker of its own (trytond-worker
# --name) keeps them from waiting behind long tasks such as bill runs
QUEUE = 'telecom_provisioning'
# a task may start this much before the attempt it makes is due (the
# database's clock schedules it, the server's sets the due time)
EARLY = dt.timedelta(seconds=5)


def _product(template):
    if template:
        return {'code': template.code, 'name': template.name}


def _now(now=None):
    "Whole seconds, as DateTime fields store them on every backend"
    return (now or dt.datetime.now()).replace(microsecond=0)


def _short(text):
    text = text or ''
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + '…'


class ProvisioningRequest(ModelSQL, ModelView):
    "Outbox request to the network or the SMS gateway"
    __name__ = 'telecom.provisioning.request'
    _rec_name = 'idempotency_key'

    channel = fields.Selection(CHANNELS, "Channel", required=True,
        readonly=True)
    action = fields.Selection(ORDER_TYPES + SMS_EVENTS, "Action",
        required=True, readonly=True, sort=False)
    order = fields.Many2One('telecom.order', "Order", readonly=True,
        ondelete='RESTRICT')
    subscriber = fields.Many2One('telecom.subscriber', "Line",
        readonly=True, ondelete='RESTRICT')
    number = fields.Char("Number", readonly=True)
    payload = fields.Text("Payload", readonly=True,
        help="The JSON body sent to the endpoint.")
    idempotency_key = fields.Char("Idempotency Key", required=True,
        readonly=True, strip=False,
        help="Sent with every attempt: the endpoint executes a key once.")
    state = fields.Selection(STATES, "State", required=True, readonly=True,
        sort=False)
    attempts = fields.Integer("Failed Attempts", required=True,
        readonly=True)
    next_attempt_at = fields.DateTime("Next Attempt At", readonly=True)
    queue_task = fields.Integer("Queue Task", readonly=True,
        help="The background task (ir.queue) that makes the next attempt.")
    last_error = fields.Text("Last Error", readonly=True)
    sent_at = fields.DateTime("Sent At", readonly=True)
    acknowledged_at = fields.DateTime("Acknowledged At", readonly=True)
    response = fields.Text("Response", readonly=True)
    channel_string = channel.translated('channel')
    action_string = action.translated('action')
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('idempotency_key_unique', Unique(t, t.idempotency_key),
                'crm_provisioning.msg_provisioning_key_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    (t.next_attempt_at, Index.Range()),
                    where=t.state.in_(OPEN_STATES)),
                Index(t, (t.order, Index.Range())),
                Index(t, (t.subscriber, Index.Range())),
                })
        cls._order = [('id', 'DESC')]
        cls._buttons.update({
                'send_now': {
                    'invisible': ~Eval('state').in_(OPEN_STATES),
                    'icon': 'tryton-launch',
                    'depends': ['state'],
                    },
                'retry': {
                    'invisible': Eval('state') != 'dead',
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_attempts(cls):
        return 0

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        # one key per request (a default would be shared by a whole batch)
        if mode == 'create' and not values.get('idempotency_key'):
            values['idempotency_key'] = uuid.uuid4().hex
        return values

    @classmethod
    def default_next_attempt_at(cls):
        return _now()

    def get_payload(self):
        return json.loads(self.payload) if self.payload else {}

    def get_progress_steps(self):
        """{position: text} of the order's progress (telecom.order): how
        the request went and how the network answered"""
        order = self.order
        if self.response == LOCAL:
            return {PROGRESS_NETWORK: gettext(
                    'crm_provisioning.msg_progress_local',
                    time=order.format_time(self.acknowledged_at))}
        sent = gettext('crm_provisioning.msg_progress_sent',
            state=self.state_string, attempts=self.attempts)
        if self.sent_at:
            sent += gettext('crm_provisioning.msg_progress_sent_at',
                time=order.format_time(self.sent_at))
        if self.state in OPEN_STATES and self.attempts:
            sent += gettext('crm_provisioning.msg_progress_next',
                time=order.format_time(self.next_attempt_at))
        steps = {PROGRESS_NETWORK: sent}
        answer = None
        if self.state == 'done':
            answer = gettext('crm_provisioning.msg_progress_acknowledged',
                time=order.format_time(self.acknowledged_at))
        elif self.state == 'dead' and self.acknowledged_at:
            answer = gettext('crm_provisioning.msg_progress_refused',
                time=order.format_time(self.acknowledged_at),
                reason=self.last_error or '-')
        elif self.state == 'dead':
            answer = gettext('crm_provisioning.msg_progress_dead',
                error=self.last_error or '-')
        elif self.state == 'cancelled':
            answer = self.response
        if answer:
            steps[PROGRESS_NETWORK + 5] = answer
        return steps

    # --- writing to the outbox ----------------------------------------

    @classmethod
    @without_check_access
    def create_for_orders(cls, orders):
        """One network request per order that changes the network.

        Without a provisioning endpoint they are acknowledged at once."""
        Configuration = Pool().get('telecom.configuration')
        local = not Configuration(1).provisioning_url
        now = _now()
        vlist = []
        for order in orders:
            if order.type not in NETWORK_ORDER_TYPES:
                continue
            payload = cls._order_payload(order)
            values = {
                'channel': 'network',
                'action': order.type,
                'order': order.id,
                'subscriber': (
                    order.subscriber.id if order.subscriber else None),
                'number': payload['number'],
                'payload': json.dumps(payload, ensure_ascii=False),
                'next_attempt_at': now,
                }
            if local:
                values.update(cls._local_ack_values(now))
            vlist.append(values)
        return cls.browse(cls._create_and_queue(vlist))

    @classmethod
    def _create_and_queue(cls, vlist):
        """The requests of vlist, the open ones with their first task.

        Written set-based through the suite's bulk writer: a bill run sends
        an SMS to tens of thousands of accounts at once. The values come
        from the outbox's own entry points (orders, notifications), which
        build them complete."""
        now = _now()
        defaults = {'state': cls.default_state(),
            'attempts': cls.default_attempts(), 'next_attempt_at': now}
        rows = []
        for values in vlist:
            unknown = set(values) - set(REQUEST_COLUMNS)
            assert not unknown, unknown
            # one key per request
            values = {**defaults, 'idempotency_key': uuid.uuid4().hex,
                **values}
            rows.append([values.get(c) for c in REQUEST_COLUMNS])
        writer = BulkWriter(cls, REQUEST_COLUMNS, ids=True)
        ids = []
        for chunk in grouped_slice(rows, 10000):
            ids.extend(writer.write(list(chunk)))
        state = REQUEST_COLUMNS.index('state')
        # the open ones only are read again, to queue them, in small slices
        # (each record of a browse() checks the ids of all the others)
        open_ = []
        for sub_ids in grouped_slice([i for i, row in zip(ids, rows)
                    if row[state] in OPEN_STATES], 500):
            open_.extend(cls.browse(list(sub_ids)))
        cls._enqueue(open_)
        return ids

    @classmethod
    def _local_ack_values(cls, now):
        return {'state': 'done', 'response': LOCAL, 'acknowledged_at': now,
            'next_attempt_at': None}

    @classmethod
    def _order_payload(cls, order):
        "What the network needs to carry the order out"
        subscriber = order.subscriber
        if order.type == 'activate':
            number, iccid = order.number.number, order.iccid
        else:
            number, iccid = subscriber.number.number, subscriber.iccid
        payload = {
            'order': order.code,
            'type': order.type,
            'number': number,
            'iccid': iccid,
            }
        if order.type == 'activate':
            payload['brand'] = order.brand.code
            payload['plan'] = _product(order.plan)
            # the line starts with them: one request, not one per service
            payload['services'] = [_product(s) for s in order.services]
        elif order.type == 'change_plan':
            payload['plan'] = _product(order.plan)
            payload['previous_plan'] = _product(subscriber.plan)
        elif order.type == 'add_service':
            payload['service'] = _product(order.service)
        elif order.type == 'remove_service':
            payload['service'] = _product(order.subscriber_service.product)
        elif order.type == 'suspend':
            payload['suspension_reason'] = order.suspension_reason
            payload['services'] = [_product(s.product)
                for s in subscriber.services if s.state == 'active']
        elif order.type == 'resume':
            # every service the suspension stopped comes back with the line
            payload['services'] = [_product(s.product)
                for s in subscriber.services if s.state == 'suspended']
        if order.reason:
            payload['reason'] = order.reason
        return payload

    @classmethod
    @without_check_access
    def notify(cls, messages):
        """SMS notifications, in one batch in the caller's transaction.

        messages: dicts with 'subscriber' (instance or id), 'event'
        (bill_issued, reminder, suspension, restoration) and 'text', and
        the line's 'number' when the caller has it (else it is read).
        Returns the ids of the requests, not records: a bill run sends
        tens of thousands at once."""
        Configuration = Pool().get('telecom.configuration')
        local = not Configuration(1).sms_url
        now = _now()
        vlist = []
        for message in messages:
            subscriber = message['subscriber']
            number = message.get('number') or subscriber.number.number
            payload = {
                'to': number,
                'text': message['text'],
                'event': message['event'],
                }
            values = {
                'channel': 'sms',
                'action': message['event'],
                'subscriber': int(subscriber),
                'number': number,
                'payload': json.dumps(payload, ensure_ascii=False),
                'next_attempt_at': now,
                }
            if local:
                values.update(cls._local_ack_values(now))
            vlist.append(values)
        return cls._create_and_queue(vlist)

    @classmethod
    @without_check_access
    def orders_completed(cls, orders):
        """Orders just applied: activations get their new line; requests
        still open (the order was completed by hand) are not sent."""
        Order = Pool().get('telecom.order')
        table = cls.__table__()
        order = Order.__table__()
        cursor = Transaction().connection.cursor()
        order_ids = [o.id for o in orders]
        for sub_ids in grouped_slice(order_ids, 1000):
            sub_ids = list(sub_ids)
            cursor.execute(*table.update([table.subscriber],
                    [order.select(order.subscriber,
                            where=order.id == table.order)],
                    where=SQL_OPERATORS['in'](table.order, sub_ids)
                    & (table.subscriber == Null)))
        requests = cls.search([('order', 'in', order_ids)])
        clear_cache(cls, [r.id for r in requests])
        open_ = [r for r in requests if r.state in OPEN_STATES]
        if open_:
            cls._set_state(open_, 'cancelled', OPEN_STATES,
                next_attempt_at=None,
                response=gettext('crm_provisioning.msg_provisioning_completed'))

    # --- state changes ------------------------------------------------

    @classmethod
    def _set_state(cls, requests, state, from_states, **values):
        """Move requests to state with one conditional UPDATE.

        The condition on the current state is what keeps an acknowledgement
        from being applied twice: of two transactions (a task and the
        acknowledgement route) only one matches the row; on PostgreSQL the
        other one fails to serialize and is retried."""
        return cls._update(requests, dict(values, state=state), from_states)

    @classmethod
    def _update(cls, requests, values, from_states=None):
        "Write values with one UPDATE per thousand requests; the row count"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [table.write_date, table.write_uid]
        params = [dt.datetime.now(), Transaction().user]
        for name, value in values.items():
            columns.append(getattr(table, name))
            params.append(value)
        ids = [r.id for r in requests]
        count = 0
        for sub_ids in grouped_slice(ids, 1000):
            where = SQL_OPERATORS['in'](table.id, list(sub_ids))
            if from_states is not None:
                where &= table.state.in_(from_states)
            cursor.execute(*table.update(columns, params, where=where))
            count += cursor.rowcount
        clear_cache(cls, ids)
        return count

    def _acknowledged(self, now, response, step='network', **values):
        "The order is applied by step, as asked by its submitter"
        pool = Pool()
        Order = pool.get('telecom.order')
        if not self._set_state([self], 'done', OPEN_STATES,
                acknowledged_at=now, next_attempt_at=None,
                response=_short(response), **values):
            return False
        if self.channel == 'network' and self.order:
            # whoever runs this (the clerk's task, an operator's Send Now,
            # the route's network user), the line's history says what
            # applied the change
            with Transaction().set_context(telecom_event_step=step):
                Order.complete([o for o in [self.order]
                        if o.state == 'provisioning'])
        return True

    def _refused(self, now, message, response, **values):
        pool = Pool()
        Order = pool.get('telecom.order')
        message = message or gettext('crm_provisioning.msg_provisioning_refused')
        if not self._set_state([self], 'dead', OPEN_STATES,
                acknowledged_at=now, next_attempt_at=None,
                last_error=_short(message), response=_short(response),
                **values):
            return False
        if self.channel == 'network' and self.order:
            Order.fail([o for o in [self.order]
                    if o.state == 'provisioning'], reason=message)
        return True

    def _accepted(self, now, response, configuration, **values):
        "The endpoint took the request and will call back"
        if self.state == 'sent':
            # asked again and still no result: count it as a failed attempt
            return self._failed(now,
                gettext('crm_provisioning.msg_provisioning_no_ack'),
                configuration, response=response, **values)
        # without a callback by then, the endpoint is asked again
        return bool(self._set_state([self], 'sent', ['pending'],
                next_attempt_at=now + dt.timedelta(
                    seconds=configuration.retry_delay * 2 ** self.attempts),
                response=_short(response), **values))

    def _failed(self, now, error, configuration, response=None, **values):
        attempts = self.attempts + 1
        values.update(attempts=attempts, last_error=_short(error))
        if response is not None:
            values['response'] = _short(response)
        if attempts >= configuration.max_attempts:
            done = self._set_state([self], 'dead', OPEN_STATES,
                next_attempt_at=None, **values)
            if done:
                self._alert_dead(error)
            return bool(done)
        delay = configuration.retry_delay * 2 ** (attempts - 1)
        return bool(self._set_state([self], self.state, [self.state],
                next_attempt_at=now + dt.timedelta(seconds=delay), **values))

    def _alert_dead(self, error):
        "Tell every billing operator that a request gave up"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        group = ModelData.get_id('crm_telecom', 'group_billing')
        with without_check_access():
            users = User.search([
                    ('groups', '=', group),
                    ('active', '=', True),
                    ])
        order = self.order.rec_name if self.order else '-'
        label = gettext('crm_provisioning.msg_provisioning_dead_label',
            action=self.action_string, number=self.number or '')
        description = gettext(
            'crm_provisioning.msg_provisioning_dead_description',
            request=self.idempotency_key, order=order,
            attempts=self.attempts + 1, error=error)
        for user in users:
            self.__class__.notify_user([self], 'tryton-warning', label,
                description=description, user=user.id)

    # --- sending --------------------------------------------------------

    def _endpoint(self, configuration):
        if self.channel == 'network':
            return configuration.provisioning_url
        return configuration.sms_url

    @classmethod
    def _read_response(cls, response):
        """(outcome, message) from the endpoint's HTTP answer:
        'done', 'accepted', 'failed' (refused, final) or 'error' (retry)"""
        code = response.status_code
        text = response.text
        body = {}
        if text.strip():
            try:
                body = response.json()
            except ValueError:
                body = None
        if not isinstance(body, dict):
            return 'error', 'HTTP %s: %s' % (code, text[:500])
        status = body.get('status')
        message = body.get('message') or body.get('error')
        if status == 'failed' and code < 500:
            return 'failed', message
        if 200 <= code < 300:
            if code == 202 or status == 'accepted':
                return 'accepted', message
            if status in {None, 'done'}:
                return 'done', message
        return 'error', 'HTTP %s: %s' % (code, text[:500])

    # --- the queue ------------------------------------------------------

    @classmethod
    def _enqueue(cls, requests, now=None):
        """Queue the next attempt of each open request: a task per batch of
        requests due at the same moment, scheduled for then, run as the
        user the request was written for (the events it leaves name them)"""
        transaction = Transaction()
        now = _now(now)
        size = config.getint('queue', 'batch_size', default=20)
        groups = defaultdict(list)
        for request in requests:
            delay = max((request.next_attempt_at or now) - now,
                dt.timedelta(0))
            user = request.create_uid.id if request.create_uid else 0
            groups[user, delay].append(request)
        for (user, delay), group in groups.items():
            with transaction.set_user(user), transaction.set_context(
                    queue_name=QUEUE, queue_scheduled_at=delay or None,
                    queue_batch=False):
                for batch in grouped_slice(group, size):
                    batch = list(batch)
                    task_id, = cls.__queue__.send(batch)
                    cls._update(batch, {'queue_task': task_id})

    @classmethod
    def send(cls, requests, now=None):
        """The queue task: make the due attempt of each request and record
        the answer; acknowledged orders complete, refused ones fail, the
        requests still open get a task for their next attempt.

        An answer that cannot be applied to its order undoes the task and
        counts as a failed attempt of that request; the others of the batch
        are queued again (their keys make the endpoint answer as before)."""
        cls._send(requests, now=now)

    @classmethod
    def _send(cls, requests, now=None, force=False):
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        Order = pool.get('telecom.order')
        transaction = Transaction()
        now = _now(now)
        # no other sender of these requests (a duplicate task, the Send Now
        # button) until this transaction ends
        cls.lock(requests)
        with without_check_access():
            configuration = Configuration(1)
            # fresh instances: the state may have changed meanwhile
            requests = [r for r in cls.browse([int(r) for r in requests])
                if r.state in OPEN_STATES and (force or r._due(now))]
            waiting = cls._waiting_orders(requests)
            for request in requests:
                try:
                    request._attempt(configuration, now)
                except UserError as exception:
                    if force:
                        raise
                    transaction.rollback()
                    cls._not_applied(request, requests, exception,
                        configuration, now)
                    return
            # their submitters are told, once for the whole batch
            Order.notify_network_outcome(Order.browse(waiting))
            cls._enqueue([r for r in cls.browse(requests)
                    if r.state in OPEN_STATES], now)

    @classmethod
    def _waiting_orders(cls, requests):
        "Ids of the orders of requests that wait for the network"
        return [r.order.id for r in requests
            if r.channel == 'network' and r.order
            and r.order.state == 'provisioning']

    def _due(self, now):
        return not self.next_attempt_at or self.next_attempt_at <= now + EARLY

    @classmethod
    def _not_applied(cls, request, batch, exception, configuration, now):
        "After the rollback of the task: nothing of it is left but this"
        logger.warning("answer to %s not applied: %s",
            request.idempotency_key, exception.message)
        cls(request.id)._failed(now, exception.message, configuration)
        cls._enqueue([r for r in cls.browse(batch)
                if r.state in OPEN_STATES], now)

    def _attempt(self, configuration, now):
        "Post the payload once and record the answer"
        if (self.channel == 'network' and self.order
                and self.order.state != 'provisioning'):
            # failed or completed by hand meanwhile: nothing to tell
            self._set_state([self], 'cancelled', OPEN_STATES,
                next_attempt_at=None,
                response=gettext('crm_provisioning.msg_provisioning_order_closed',
                    order=self.order.rec_name,
                    state=self.order.state_string))
            return
        url = self._endpoint(configuration)
        if not url:
            # the endpoint was removed meanwhile: no network was asked
            self._acknowledged(now, LOCAL, step='system')
            return
        try:
            response = http.post(url, json=self.get_payload(),
                headers={'Idempotency-Key': self.idempotency_key},
                timeout=configuration.request_timeout)
            outcome, message = self._read_response(response)
            text = response.text
        except Exception as exception:
            outcome, message, text = 'error', (
                '%s: %s' % (exception.__class__.__name__, exception)), None
        logger.info("%s %s %s: %s", self.channel, self.action,
            self.idempotency_key, outcome)
        if outcome == 'done':
            self._acknowledged(now, text, sent_at=now)
        elif outcome == 'accepted':
            self._accepted(now, text, configuration, sent_at=now)
        elif outcome == 'failed':
            self._refused(now, message, text, sent_at=now)
        else:
            self._failed(now, message, configuration, response=text,
                sent_at=now)

    @classmethod
    def requeue_stalled(cls, now=None):
        """Cron: a new task for the open requests whose task died.

        trytond-worker marks a task dequeued, and commits that, before it
        runs it: a worker killed mid-send leaves the task dequeued, never
        finished, and never run again. Without a worker ([queue] worker =
        False) only the process that queued a task runs it, right after its
        commit, and a scheduled retry ran too early."""
        pool = Pool()
        Queue = pool.get('ir.queue')
        Configuration = pool.get('telecom.configuration')
        table = cls.__table__()
        queue = Queue.__table__()
        cursor = Transaction().connection.cursor()
        # the queue's own timestamps, not the requests' whole seconds
        now = now or dt.datetime.now()
        limit = now - cls._stalled_after(Configuration(1))
        waiting = queue.dequeued_at == Null
        if not config.getboolean('queue', 'worker', default=False):
            waiting &= Coalesce(queue.scheduled_at, queue.enqueued_at) > limit
        running = (queue.dequeued_at != Null) & (queue.dequeued_at > limit)
        alive = (queue.finished_at == Null) & (waiting | running)
        cursor.execute(*table.join(queue, 'LEFT',
                condition=queue.id == table.queue_task).select(table.id,
                where=table.state.in_(OPEN_STATES)
                & ((queue.id == Null) | ~alive)))
        requests = cls.browse([i for i, in cursor])
        if requests:
            logger.warning("%s outbox requests queued again", len(requests))
            cls._enqueue(requests)

    @classmethod
    def _stalled_after(cls, configuration):
        "Longer than a task of a batch of requests timing out can take"
        size = config.getint('queue', 'batch_size', default=20)
        return dt.timedelta(
            seconds=configuration.request_timeout * size + 60)

    # --- asynchronous acknowledgement -------------------------------------

    @classmethod
    @without_check_access
    def acknowledge(cls, key, status, message=None, now=None):
        """The endpoint's callback for a request it accepted.

        Returns the request's state afterwards, None for an unknown key. A
        repeated acknowledgement changes nothing."""
        Order = Pool().get('telecom.order')
        now = _now(now)
        requests = cls.search([('idempotency_key', '=', key)], limit=1)
        if not requests:
            return None
        request, = requests
        # no sender of it meanwhile: the answer is recorded once
        cls.lock(requests)
        request = cls(request.id)
        if request.state in OPEN_STATES:
            waiting = cls._waiting_orders([request])
            response = json.dumps({'status': status, 'message': message},
                ensure_ascii=False)
            if status == 'done':
                request._acknowledged(now, response)
            elif status == 'failed':
                request._refused(now, message, response)
            Order.notify_network_outcome(Order.browse(waiting))
            request = cls(request.id)
        return request.state

    # --- buttons ----------------------------------------------------------

    @classmethod
    @ModelView.button
    def send_now(cls, requests):
        "Without waiting for the scheduled attempt; an error is shown"
        cls._send(requests, force=True)

    @classmethod
    @ModelView.button
    def retry(cls, requests):
        "A dead request starts over"
        for request in requests:
            if (request.channel == 'network' and request.order
                    and request.order.state != 'provisioning'):
                raise ProvisioningError(gettext(
                        'crm_provisioning.msg_provisioning_retry_order_closed',
                        request=request.rec_name,
                        order=request.order.rec_name,
                        state=request.order.state_string))
        cls._set_state(requests, 'pending', ['dead'], attempts=0,
            next_attempt_at=_now())
        cls._enqueue([r for r in cls.browse(requests)
                if r.state == 'pending'])


class UserApplication(metaclass=PoolMeta):
    __name__ = 'res.user.application'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        application = (APPLICATION, "Telecom Provisioning Callbacks")
        if application not in cls.application.selection:
            cls.application.selection.append(application)
