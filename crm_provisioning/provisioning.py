"""The outbox of calls to the network (provisioning) and the SMS gateway.

Requests are written in the transaction of the business change that needs
them and sent afterwards by a worker, each in its own transaction, with an
idempotency key the endpoint uses to recognise a request it already
executed: a crash between the call and the commit leaves the request
pending and it is simply sent again."""
import datetime as dt
import json
import logging
import uuid

import requests as http
from sql import For, Literal, Null

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction,
    TransactionError,
    without_check_access,
)

from crm_telecom.order import ORDER_TYPES
from crm_telecom.sql_tools import clear_cache

from .exceptions import ProvisioningError

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
        return cls.create(vlist)

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

        messages: dicts with 'subscriber' (instance), 'event' (bill_issued,
        reminder, suspension, restoration) and 'text'."""
        Configuration = Pool().get('telecom.configuration')
        local = not Configuration(1).sms_url
        now = _now()
        vlist = []
        for message in messages:
            subscriber = message['subscriber']
            number = subscriber.number.number
            payload = {
                'to': number,
                'text': message['text'],
                'event': message['event'],
                }
            values = {
                'channel': 'sms',
                'action': message['event'],
                'subscriber': subscriber.id,
                'number': number,
                'payload': json.dumps(payload, ensure_ascii=False),
                'next_attempt_at': now,
                }
            if local:
                values.update(cls._local_ack_values(now))
            vlist.append(values)
        return cls.create(vlist)

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
        from being applied twice: of two transactions (the worker and the
        acknowledgement route) only one matches the row; on PostgreSQL the
        other one fails to serialize and is retried."""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [table.state, table.write_date, table.write_uid]
        params = [state, dt.datetime.now(), Transaction().user]
        for name, value in values.items():
            columns.append(getattr(table, name))
            params.append(value)
        ids = [r.id for r in requests]
        count = 0
        for sub_ids in grouped_slice(ids, 1000):
            cursor.execute(*table.update(columns, params,
                    where=SQL_OPERATORS['in'](table.id, list(sub_ids))
                    & table.state.in_(from_states)))
            count += cursor.rowcount
        clear_cache(cls, ids)
        return count

    def _lock(self):
        "Wait for a concurrent sender of this request (PostgreSQL)"
        transaction = Transaction()
        if transaction.database.has_select_for():
            table = self.__table__()
            cursor = transaction.connection.cursor()
            cursor.execute(*table.select(Literal(1),
                    where=table.id == self.id, for_=For('UPDATE')))

    def _acknowledged(self, now, response, **values):
        pool = Pool()
        Order = pool.get('telecom.order')
        if not self._set_state([self], 'done', OPEN_STATES,
                acknowledged_at=now, next_attempt_at=None,
                response=_short(response), **values):
            return False
        if self.channel == 'network' and self.order:
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

    @classmethod
    def send(cls, requests, now=None):
        """Send open requests in the current transaction and record the
        answers: acknowledged orders complete, refused ones fail."""
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        configuration = Configuration(1)
        now = _now(now)
        with without_check_access():
            # fresh instances: the state may have changed meanwhile
            for request in cls.browse([int(r) for r in requests]):
                request._send(configuration, now)

    def _send(self, configuration, now):
        if self.state not in OPEN_STATES:
            return
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
            self._acknowledged(now, LOCAL)
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
        # nothing is written before the call: no lock is held during it
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
    def due(cls, now=None, limit=None):
        "Ids of the open requests whose next attempt is due"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        now = _now(now)
        cursor.execute(*table.select(table.id,
                where=table.state.in_(OPEN_STATES)
                & ((table.next_attempt_at <= now)
                    | (table.next_attempt_at == Null)),
                order_by=[table.next_attempt_at.asc, table.id.asc],
                limit=limit))
        return [i for i, in cursor]

    @classmethod
    def _claim(cls, id_, now):
        """The request if it is still due and no other worker holds it
        (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL)"""
        transaction = Transaction()
        database = transaction.database
        table = cls.__table__()
        cursor = transaction.connection.cursor()
        query = table.select(table.id,
            where=(table.id == id_) & table.state.in_(OPEN_STATES)
            & ((table.next_attempt_at <= now)
                | (table.next_attempt_at == Null)))
        if database.has_select_for():
            query.for_ = database.get_select_for_skip_locked()('UPDATE')
        cursor.execute(*query)
        if cursor.fetchone():
            return cls(id_)

    @classmethod
    def send_pending(cls, now=None, limit=1000):
        """Cron: send the due requests, each in its own transaction

        A request is committed with its answer; a crash before the commit
        leaves it open and it is sent again with the same key."""
        now = _now(now)
        for id_ in cls.due(now, limit=limit):
            try:
                cls._in_new_transaction(id_, now, cls._send_claimed)
            except Exception as exception:
                # the answer could not be recorded (e.g. the order can no
                # longer be applied): count it as a failed attempt
                logger.warning("request %s failed", id_, exc_info=True)
                if isinstance(exception, UserError):
                    error = exception.message
                else:
                    error = '%s: %s' % (
                        exception.__class__.__name__, exception)
                cls._in_new_transaction(id_, now,
                    lambda request, now: request._failed(now, error,
                        Pool().get('telecom.configuration')(1)))

    @classmethod
    def _send_claimed(cls, request, now):
        cls.send([request], now=now)

    @classmethod
    def _in_new_transaction(cls, id_, now, func):
        "func(request, now) on the claimed request, committed on its own"
        extras = {}
        while True:
            with Transaction().new_transaction(**extras) as transaction:
                try:
                    request = cls._claim(id_, now)
                    if request:
                        func(request, now)
                except TransactionError as exception:
                    # restart with the locks it asked for
                    transaction.rollback()
                    exception.fix(extras)
                    continue
                transaction.commit()
                return

    # --- asynchronous acknowledgement -------------------------------------

    @classmethod
    @without_check_access
    def acknowledge(cls, key, status, message=None, now=None):
        """The endpoint's callback for a request it accepted.

        Returns the request's state afterwards, None for an unknown key. A
        repeated acknowledgement changes nothing."""
        now = _now(now)
        requests = cls.search([('idempotency_key', '=', key)], limit=1)
        if not requests:
            return None
        request, = requests
        request._lock()
        request = cls(request.id)
        if request.state in OPEN_STATES:
            response = json.dumps({'status': status, 'message': message},
                ensure_ascii=False)
            if status == 'done':
                request._acknowledged(now, response)
            elif status == 'failed':
                request._refused(now, message, response)
            request = cls(request.id)
        return request.state

    # --- buttons ----------------------------------------------------------

    @classmethod
    @ModelView.button
    def send_now(cls, requests):
        cls.send(requests)

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


class UserApplication(metaclass=PoolMeta):
    __name__ = 'res.user.application'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        application = (APPLICATION, "Telecom Provisioning Callbacks")
        if application not in cls.application.selection:
            cls.application.selection.append(application)
