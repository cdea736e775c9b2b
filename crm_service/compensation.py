"""Compensation on complaints: a bill credit proposed by whoever handles
the complaint.

At or under the configured amount the credit is approved as it is
proposed; above it, a service supervisor other than the proposer approves
or refuses it. An approved compensation becomes an approved billing
adjustment (a negative amount) of the account, linked back to the request,
and lands on the account's next bill through the bill run. Every step is
an event of the request."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.company.model import employee_field, set_employee
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

from crm_telecom.company import company_currency
from crm_telecom.money import format_money

from .company import RequestCompanyMixin
from .exceptions import ServiceError, ServiceValidationError

STATES = [
    ('draft', "Draft"),
    ('waiting', "Waiting for Approval"),
    ('approved', "Approved"),
    ('refused', "Refused"),
    ]
# the request states a compensation may be proposed in
PROPOSABLE = ['open', 'waiting', 'resolved']
_draft = Eval('state') != 'draft'


def is_supervisor():
    "Whether the user of the transaction approves compensation"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    if not Transaction().user:
        return True
    return ModelData.get_id('crm_service', 'group_service_supervisor') in (
        User.get_groups())


class Compensation(RequestCompanyMixin, Workflow, ModelSQL, ModelView):
    "Service request compensation"
    __name__ = 'telecom.service_request.compensation'

    request = fields.Many2One('telecom.service_request', "Request",
        required=True, ondelete='CASCADE',
        domain=[('type', '=', 'complaint')],
        states={'readonly': Eval('id', -1) >= 0})
    customer = fields.Function(fields.Many2One('party.party', "Customer"),
        'on_change_with_customer')
    account = fields.Many2One('telecom.account', "Account", required=True,
        ondelete='RESTRICT', states={'readonly': _draft},
        domain=[If(Eval('subscriber_account'),
                ['OR',
                    ('payer', '=', Eval('customer', -1)),
                    ('id', '=', Eval('subscriber_account', -1)),
                    ],
                [('payer', '=', Eval('customer', -1))])],
        help="The billing account credited: the line's by default, or "
        "another account of the customer.")
    subscriber_account = fields.Function(fields.Many2One('telecom.account',
            "Account of the Request's Line"),
        'on_change_with_subscriber_account')
    subscriber = fields.Many2One('telecom.subscriber', "Line",
        ondelete='RESTRICT', states={'readonly': _draft},
        domain=[('account', '=', Eval('account', -1))],
        help="The line the credit is for, shown on its bill line.")
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')
    amount = Monetary("Amount", currency='currency', digits='currency',
        required=True, states={'readonly': _draft},
        help="The credit given to the customer (a positive amount).")
    reason = fields.Text("Reason", required=True,
        states={'readonly': _draft},
        help="Why the customer is compensated: it is shown on the bill.")
    state = fields.Selection(STATES, "State", required=True, readonly=True,
        sort=False)
    proposed_by = employee_field("Proposed by",
        states=['waiting', 'approved', 'refused'])
    proposed_user = fields.Many2One('res.user', "Proposed by User",
        readonly=True)
    proposed_at = fields.DateTime("Proposed At", readonly=True)
    approved_by = employee_field("Approved by",
        states=['waiting', 'approved', 'refused'])
    refused_by = employee_field("Refused by",
        states=['waiting', 'approved', 'refused'])
    decided_at = fields.DateTime("Decided At", readonly=True)
    adjustment = fields.Many2One('telecom.bill.adjustment', "Adjustment",
        readonly=True, ondelete='RESTRICT',
        help="The bill credit the approval created.")
    bill = fields.Function(fields.Many2One('telecom.bill', "Billed On"),
        'get_bill')
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('request')
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.request, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state == 'waiting'),
                })
        cls._order = [('id', 'ASC')]
        cls._transitions |= {
            ('draft', 'waiting'),
            ('draft', 'approved'),
            ('waiting', 'approved'),
            ('waiting', 'refused'),
            }
        cls._buttons.update({
                'propose': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'waiting',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'refuse': {
                    'invisible': Eval('state') != 'waiting',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @fields.depends('request', '_parent_request.customer')
    def on_change_with_customer(self, name=None):
        if self.request:
            return self.request.customer

    @fields.depends('request', '_parent_request.subscriber')
    def on_change_with_subscriber_account(self, name=None):
        if self.request and self.request.subscriber:
            return self.request.subscriber.account

    @fields.depends('request', '_parent_request.company')
    def on_change_with_currency(self, name=None):
        if self.request:
            return company_currency(self.request.company)

    @fields.depends('request', 'account', 'subscriber',
        '_parent_request.subscriber')
    def on_change_request(self):
        line = self.request.subscriber if self.request else None
        if line and not self.account:
            self.account = line.account
            self.subscriber = line

    @fields.depends('account', 'subscriber')
    def on_change_account(self):
        if self.subscriber and self.subscriber.account != self.account:
            self.subscriber = None

    def get_bill(self, name):
        if self.adjustment and self.adjustment.bill:
            return self.adjustment.bill.id

    def get_rec_name(self, name):
        return '%s %s' % (self.request.code or '',
            format_money(self.amount))

    @classmethod
    def preprocess_values(cls, mode, values):
        Request = Pool().get('telecom.service_request')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('request'):
            # the request's line and its account unless others are named
            line = Request(values['request']).subscriber
            if line and not values.get('account'):
                values['account'] = line.account.id
                values.setdefault('subscriber', line.id)
        return values

    @classmethod
    def _validate(cls, compensations, field_names=None):
        # before the fields' domains, whose message would say less
        if field_names is None or set(field_names) & {
                'request', 'account', 'subscriber', 'amount'}:
            for compensation in compensations:
                compensation.check_request()
                compensation.check_account()
        super()._validate(compensations, field_names=field_names)

    def check_request(self):
        request = self.request
        if request.type != 'complaint':
            raise ServiceValidationError(gettext(
                    'crm_service.msg_compensation_not_complaint',
                    request=request.rec_name,
                    type=request.type_string))
        if self.amount is not None and self.amount <= 0:
            raise ServiceValidationError(gettext(
                    'crm_service.msg_compensation_amount',
                    request=request.rec_name,
                    amount=format_money(self.amount)))

    def check_account(self):
        request = self.request
        line = request.subscriber
        if not (self.account.payer == request.customer
                or (line and line.account == self.account)):
            raise ServiceValidationError(gettext(
                    'crm_service.msg_compensation_account',
                    account=self.account.rec_name,
                    request=request.rec_name,
                    customer=request.customer.rec_name))
        if self.subscriber and self.subscriber.account != self.account:
            raise ServiceValidationError(gettext(
                    'crm_service.msg_compensation_line',
                    line=self.subscriber.rec_name,
                    account=self.account.rec_name))

    @classmethod
    def create(cls, vlist):
        compensations = super().create(vlist)
        for compensation in compensations:
            request = compensation.request
            if request.state not in PROPOSABLE:
                raise ServiceError(gettext(
                        'crm_service.msg_compensation_request_state',
                        request=request.rec_name,
                        state=request.state_string))
        return compensations

    @classmethod
    def check_modification(cls, mode, compensations, values=None,
            external=False):
        super().check_modification(
            mode, compensations, values=values, external=external)
        if mode == 'delete':
            for compensation in compensations:
                if compensation.state != 'draft':
                    raise ServiceError(gettext(
                            'crm_service.msg_compensation_delete',
                            compensation=compensation.rec_name,
                            state=compensation.state_string))

    @classmethod
    def copy(cls, compensations, default=None):
        default = default.copy() if default is not None else {}
        for name in ['proposed_by', 'proposed_user', 'proposed_at',
                'approved_by', 'refused_by', 'decided_at', 'adjustment']:
            default.setdefault(name, None)
        default.setdefault('state', 'draft')
        return super().copy(compensations, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('waiting')
    @set_employee('proposed_by', when='before')
    def propose(cls, compensations):
        """At or under the configured amount the credit is approved at
        once; above it waits for a supervisor"""
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        Event = pool.get('telecom.service_request.event')
        limit = Configuration(1).compensation_approval_amount
        for compensation in compensations:
            if compensation.request.state not in PROPOSABLE:
                raise ServiceError(gettext(
                        'crm_service.msg_compensation_request_state',
                        request=compensation.request.rec_name,
                        state=compensation.request.state_string))
        cls.write(compensations, {
                'proposed_user': Transaction().user or None,
                'proposed_at': dt.datetime.now(),
                })
        Event.record([Event.values(c.request, 'compensation', gettext(
                        'crm_service.msg_event_compensation_proposed'
                        if c.amount > limit else
                        'crm_service.msg_event_compensation_proposed_small',
                        amount=format_money(c.amount),
                        account=c.account.rec_name,
                        reason=c.reason,
                        limit=format_money(limit)))
                for c in compensations])
        small = [c for c in compensations if c.amount <= limit]
        if small:
            cls._approve(small)

    @classmethod
    @ModelView.button
    def approve(cls, compensations):
        "A supervisor, not the proposer, approves what waits"
        transaction = Transaction()
        user = transaction.user
        employee = transaction.context.get('employee')
        # the small ones were approved as they were proposed
        compensations = [c for c in compensations if c.state == 'waiting']
        for compensation in compensations:
            if not is_supervisor():
                raise ServiceError(gettext(
                        'crm_service.msg_compensation_approver_group',
                        compensation=compensation.rec_name,
                        amount=format_money(compensation.amount)))
            if user and (
                    (compensation.proposed_user
                        and compensation.proposed_user.id == user)
                    or (employee and compensation.proposed_by
                        and compensation.proposed_by.id == employee)):
                raise ServiceError(gettext(
                        'crm_service.msg_compensation_approver',
                        compensation=compensation.rec_name,
                        amount=format_money(compensation.amount)))
        cls._approve(compensations)

    @classmethod
    @Workflow.transition('approved')
    @set_employee('approved_by')
    def _approve(cls, compensations):
        """The credit goes to billing: an approved adjustment of the
        account, on its next bill"""
        pool = Pool()
        Adjustment = pool.get('telecom.bill.adjustment')
        Event = pool.get('telecom.service_request.event')
        if not compensations:
            return
        vlist = []
        for compensation in compensations:
            request = compensation.request
            vlist.append({
                    'account': compensation.account.id,
                    'subscriber': (compensation.subscriber.id
                        if compensation.subscriber else None),
                    'amount': -compensation.amount,
                    'reason': gettext(
                        'crm_service.msg_compensation_adjustment_reason',
                        request=request.code, reason=compensation.reason),
                    'service_request': request.id,
                    'requested_by': (compensation.proposed_user.id
                        if compensation.proposed_user else None),
                    'requested_employee': (compensation.proposed_by.id
                        if compensation.proposed_by else None),
                    })
        # billing's own rights are not the approver's: the approval here
        # is the one the credit needs
        with without_check_access():
            adjustments = Adjustment.create(vlist)
            Adjustment.approve(adjustments, check_approver=False)
        now = dt.datetime.now()
        to_write = []
        for compensation, adjustment in zip(compensations, adjustments):
            to_write.extend([[compensation], {
                        'adjustment': adjustment.id,
                        'decided_at': now,
                        }])
        cls.write(*to_write)
        Event.record([Event.values(c.request, 'compensation', gettext(
                        'crm_service.msg_event_compensation_approved',
                        amount=format_money(c.amount),
                        account=c.account.rec_name))
                for c in compensations])

    @classmethod
    @ModelView.button
    @Workflow.transition('refused')
    @set_employee('refused_by')
    def refuse(cls, compensations):
        Event = Pool().get('telecom.service_request.event')
        for compensation in compensations:
            if not is_supervisor():
                raise ServiceError(gettext(
                        'crm_service.msg_compensation_approver_group',
                        compensation=compensation.rec_name,
                        amount=format_money(compensation.amount)))
        cls.write(compensations, {'decided_at': dt.datetime.now()})
        Event.record([Event.values(c.request, 'compensation', gettext(
                        'crm_service.msg_event_compensation_refused',
                        amount=format_money(c.amount),
                        account=c.account.rec_name))
                for c in compensations])


class RequestCompensationMixin:
    "The compensation of a complaint"
    __slots__ = ()
    compensations = fields.One2Many('telecom.service_request.compensation',
        'request', "Compensation",
        states={
            'invisible': Eval('type') != 'complaint',
            'readonly': ~Eval('state').in_(PROPOSABLE),
            },
        help="Bill credits given to the customer for the complaint.")

    @classmethod
    def copy(cls, requests, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('compensations', None)
        return super().copy(requests, default=default)


class Adjustment(metaclass=PoolMeta):
    __name__ = 'telecom.bill.adjustment'

    service_request = fields.Many2One('telecom.service_request',
        "Service Request", readonly=True, ondelete='RESTRICT',
        help="The complaint the credit compensates.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.service_request, Index.Range()),
                where=t.service_request != None))  # noqa: E711

    @classmethod
    def copy(cls, adjustments, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('service_request', None)
        return super().copy(adjustments, default=default)
