"""Service requests: consultations, complaints, suggestions, faults and
business requests, each with one accountable owner.

Whoever takes a request owns it until it is closed: transfers to another
team or company add a handler (handling.py) and leave the owner in charge.
A request is resolved with a resolution, and a complaint is closed only
once the customer confirmed it or a return visit failed to reach them."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.modules.company.model import employee_field, set_employee
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from crm_telecom.company import default_company
from crm_telecom.sql_tools import stored_values

from .compensation import RequestCompensationMixin
from .exceptions import ServiceError, ServiceValidationError
from .knowledge import RequestKnowledgeMixin
from .sla import RequestSLAMixin
from .visit import RequestVisitMixin

REQUEST_TYPES = [
    ('consultation', "Consultation"),
    ('complaint', "Complaint"),
    ('suggestion', "Suggestion"),
    ('fault', "Fault"),
    ('business', "Business Request"),
    ]
CHANNELS = [
    ('business_hall', "Business Hall"),
    ('call_centre', "Call Centre"),
    ('online', "Online Hall"),
    ('sms_hall', "SMS Hall"),
    ('app', "Mobile App"),
    ]
# lowest first: a repeat complaint is raised one step
PRIORITIES = [
    ('low', "Low"),
    ('normal', "Normal"),
    ('high', "High"),
    ('urgent', "Urgent"),
    ]
STATES = [
    ('open', "Open"),
    ('waiting', "Waiting on Customer"),
    ('resolved', "Resolved"),
    ('closed', "Closed"),
    ('merged', "Merged"),
    ]
LIVE_STATES = ['open', 'waiting']
# Loaded when read, not with every record: the stored columns no list
# shows, and the selections the lists show (sao labels a lazy selection
# from the view's own, where for an eager one it asks the server for each
# row's label, which costs trytond a fields_get per row)
LAZY_FIELDS = ['type', 'priority', 'channel', 'topic', 'regulator',
    'description',
    'bill_line', 'payment', 'order', 'contact_phone', 'resolution',
    'resolved_at', 'resolved_by', 'customer_confirmed', 'closed_at',
    'closed_by', 'repeat_of', 'merged_into', 'create_uid', 'write_uid']
_done = ~Eval('state').in_(LIVE_STATES)


def raised(priority):
    "The priority one level up (the highest stays)"
    keys = [p for p, _ in PRIORITIES]
    return keys[min(keys.index(priority or 'normal') + 1, len(keys) - 1)]


class Request(RequestSLAMixin, RequestCompensationMixin, RequestVisitMixin,
        RequestKnowledgeMixin, Workflow, ModelSQL, ModelView):
    "Service request"
    __name__ = 'telecom.service_request'
    _rec_name = 'code'

    code = fields.Char("Code", readonly=True)
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', readonly=True,
        help="The company that took the request and answers for it.")
    type = fields.Selection(REQUEST_TYPES, "Type", required=True,
        states={'readonly': _done})
    topic = fields.Many2One('telecom.service.topic', "Topic",
        ondelete='RESTRICT', states={'readonly': _done})
    channel = fields.Selection(CHANNELS, "Channel", required=True,
        states={'readonly': _done},
        help="Where the customer came to us.")
    priority = fields.Selection(PRIORITIES, "Priority", required=True,
        sort=False, states={'readonly': _done})
    regulator = fields.Boolean("Regulator Escalated",
        states={'readonly': _done,
            'invisible': Eval('type') != 'complaint'},
        help="A complaint the regulator (工信部) passed on: its deadline is "
        "the one set in the configuration.")
    subject = fields.Char("Subject", required=True,
        states={'readonly': _done})
    description = fields.Text("Description", states={'readonly': _done})
    customer = fields.Many2One('party.party', "Customer", required=True,
        ondelete='RESTRICT', states={'readonly': _done})
    subscriber = fields.Many2One('telecom.subscriber', "Line",
        ondelete='RESTRICT', states={'readonly': _done})
    bill_line = fields.Many2One('telecom.bill.line', "Bill Line",
        ondelete='RESTRICT', states={'readonly': _done})
    payment = fields.Many2One('telecom.payment', "Payment",
        ondelete='RESTRICT', states={'readonly': _done})
    payment_movements = fields.Function(fields.Many2Many(
            'telecom.account.movement', None, None, "Ledger Movements",
            states={'invisible': ~Eval('payment')},
            help="The payment's entries in the account's ledger."),
        'get_payment_movements')
    order = fields.Many2One('telecom.order', "Order", ondelete='RESTRICT',
        states={'readonly': _done})
    contact_phone = fields.Char("Contact Phone",
        states={'readonly': _done})
    owner = employee_field("Owner", states=['open', 'waiting', 'resolved',
            'closed', 'merged'])
    team = fields.Many2One('telecom.service.team', "Team",
        ondelete='RESTRICT', states={'readonly': _done},
        help="The owner's team: its supervisor follows the request.")
    state = fields.Selection(STATES, "State", required=True, readonly=True,
        sort=False)
    resolution = fields.Text("Resolution",
        states={'readonly': ~Eval('state').in_(LIVE_STATES)},
        help="What was done for the customer: required to resolve.")
    resolved_at = fields.DateTime("Resolved At", readonly=True)
    resolved_by = employee_field("Resolved by", states=['resolved',
            'closed', 'merged'])
    customer_confirmed = fields.Boolean("Confirmed by Customer",
        readonly=True)
    closed_at = fields.DateTime("Closed At", readonly=True)
    closed_by = employee_field("Closed by", states=['closed', 'merged'])
    repeat_of = fields.Many2One('telecom.service_request', "Repeat of",
        readonly=True, ondelete='SET NULL',
        help="The earlier complaint of the same customer or number on "
        "the same topic this one repeats.")
    merged_into = fields.Many2One('telecom.service_request', "Merged into",
        readonly=True, ondelete='RESTRICT',
        states={'invisible': Eval('state') != 'merged'})
    handlings = fields.One2Many('telecom.service_request.handling',
        'request', "Handlers",
        states={'readonly': ~Eval('state').in_(LIVE_STATES)},
        help="Teams and companies asked to work on the request; the owner "
        "stays accountable.")
    contacts = fields.One2Many('telecom.service_request.contact',
        'request', "Contacts",
        help="Every time the customer reached us, or we them.")
    events = fields.One2Many('telecom.service_request.event', 'request',
        "History", readonly=True)
    counted_open = fields.Function(fields.Integer("Open",
            help="One per open request, for the graphs to count."),
        'get_counted')
    counted_waiting = fields.Function(fields.Integer("Waiting on Customer",
            help="One per request waiting on the customer, for the graphs "
            "to count."),
        'get_counted')
    type_string = type.translated('type')
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        for name in LAZY_FIELDS:
            getattr(cls, name).loading = 'lazy'
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Unique(t, t.code),
                'crm_service.msg_request_code_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.code, Index.Equality(cardinality='high'))),
                Index(t, (t.customer, Index.Range()),
                    (t.create_date, Index.Range())),
                Index(t, (t.subscriber, Index.Range())),
                Index(t, (t.owner, Index.Range()),
                    where=t.state.in_(LIVE_STATES + ['resolved'])),
                })
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'waiting'),
            ('waiting', 'open'),
            ('open', 'resolved'),
            ('resolved', 'closed'),
            ('resolved', 'open'),
            ('closed', 'open'),
            ('open', 'merged'),
            ('waiting', 'merged'),
            }
        cls._buttons.update({
                'wait': {
                    'invisible': Eval('state') != 'open',
                    'icon': 'tryton-history',
                    'depends': ['state'],
                    },
                'resume': {
                    'invisible': Eval('state') != 'waiting',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'resolve': {
                    'invisible': Eval('state') != 'open',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'confirm': {
                    'invisible': Eval('state') != 'resolved',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') != 'resolved',
                    'icon': 'tryton-close',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': ~Eval('state').in_(['resolved', 'closed']),
                    'icon': 'tryton-undo',
                    'depends': ['state'],
                    },
                'merge_wizard': {
                    'invisible': ~Eval('state').in_(LIVE_STATES),
                    'icon': 'tryton-link',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def default_company(cls):
        return default_company()

    @classmethod
    def default_type(cls):
        return 'consultation'

    @classmethod
    def default_channel(cls):
        return 'call_centre'

    @classmethod
    def default_priority(cls):
        return 'normal'

    @classmethod
    def default_regulator(cls):
        return False

    @classmethod
    def default_customer_confirmed(cls):
        return False

    @classmethod
    def default_owner(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_team(cls):
        Team = Pool().get('telecom.service.team')
        team = Team.of_employee(cls.default_owner())
        return team.id if team else None

    @classmethod
    def get_rec_name(cls, requests, name):
        values = stored_values(cls, requests, ['code', 'subject'])
        return {r.id: '%s %s' % (values[r.id][0] or '', values[r.id][1] or '')
            for r in requests}

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith('!') or operator.startswith(
            'not ') else 'OR'
        return [bool_op,
            ('code', operator, operand, *extra),
            ('subject', operator, operand, *extra),
            ]

    @fields.depends('subscriber', 'customer')
    def on_change_subscriber(self):
        if self.subscriber and self.subscriber.customer:
            self.customer = self.subscriber.customer

    @fields.depends('payment', 'customer')
    def on_change_payment(self):
        if self.payment:
            self.customer = self.payment.payer

    @fields.depends('bill_line', 'subscriber', 'customer')
    def on_change_bill_line(self):
        if self.bill_line and self.bill_line.subscriber:
            self.subscriber = self.bill_line.subscriber
            self.on_change_subscriber()

    @classmethod
    def get_payment_movements(cls, requests, name):
        Movement = Pool().get('telecom.account.movement')
        result = {r.id: [] for r in requests}
        origins = {str(r.payment): r.id for r in requests if r.payment}
        if origins:
            for movement in Movement.search([
                        ('origin', 'in', list(origins)),
                        ]):
                result[origins[str(movement.origin)]].append(movement.id)
        return result

    def get_counted(self, name):
        return int(self.state == name[len('counted_'):])

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        Team = pool.get('telecom.service.team')
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            # defaults are filled after this
            values.setdefault('owner', cls.default_owner())
            if not values.get('owner'):
                raise ServiceError(gettext(
                        'crm_service.msg_request_no_owner',
                        subject=values.get('subject') or ''))
            if not values.get('code'):
                values['code'] = (
                    Configuration(1).service_request_sequence.get())
            if not values.get('team'):
                team = Team.of_employee(values['owner'])
                if team:
                    values['team'] = team.id
        return values

    @classmethod
    def check_modification(cls, mode, requests, values=None,
            external=False):
        super().check_modification(
            mode, requests, values=values, external=external)
        if mode == 'write' and external and 'owner' in values:
            # first-contact ownership: the taker stays the owner
            for request in requests:
                if request.owner and request.owner.id != values['owner']:
                    raise ServiceError(gettext(
                            'crm_service.msg_request_owner_kept',
                            request=request.rec_name,
                            owner=request.owner.rec_name))
        if mode == 'delete':
            for request in requests:
                if request.state != 'open' or request.handlings:
                    raise ServiceError(gettext(
                            'crm_service.msg_request_delete',
                            request=request.rec_name))

    @classmethod
    def copy(cls, requests, default=None):
        default = default.copy() if default is not None else {}
        for name in ['code', 'resolution', 'resolved_at', 'closed_at',
                'repeat_of', 'merged_into', 'events', 'handlings',
                'contacts']:
            default.setdefault(name, None)
        default.setdefault('state', 'open')
        default.setdefault('customer_confirmed', False)
        default.setdefault('owner', cls.default_owner())
        return super().copy(requests, default=default)

    @classmethod
    def create(cls, vlist):
        Event = Pool().get('telecom.service_request.event')
        requests = super().create(vlist)
        Event.log(requests, 'created')
        cls._flag_repeats(requests)
        cls._sla_start(requests)
        return requests

    @classmethod
    def _flag_repeats(cls, requests):
        """A complaint repeating another of its customer or number on the
        same topic within the window is linked to it and raised a level"""
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        Event = pool.get('telecom.service_request.event')
        complaints = [r for r in requests
            if r.type == 'complaint' and r.topic]
        if not complaints:
            return
        days = Configuration(1).repeat_window_days
        since = min(r.create_date for r in complaints) - dt.timedelta(
            days=days)
        new_ids = {r.id for r in complaints}
        customers = {r.customer.id for r in complaints}
        subscribers = {r.subscriber.id for r in complaints if r.subscriber}
        earlier = cls.search([
                ('type', '=', 'complaint'),
                ('topic', 'in', list({r.topic.id for r in complaints})),
                ('state', '!=', 'merged'),
                ('create_date', '>=', since),
                ('id', 'not in', list(new_ids)),
                ['OR',
                    ('customer', 'in', list(customers)),
                    ('subscriber', 'in', list(subscribers)),
                    ],
                ], order=[('create_date', 'DESC'), ('id', 'DESC')])
        to_write, events = [], []
        for request in complaints:
            window = request.create_date - dt.timedelta(days=days)
            for other in earlier:
                if (other.topic == request.topic
                        and other.create_date >= window
                        and (other.customer == request.customer
                            or (request.subscriber
                                and other.subscriber == request.subscriber))):
                    break
            else:
                continue
            priority = raised(request.priority)
            to_write.extend([[request], {
                        'repeat_of': other.id,
                        'priority': priority,
                        }])
            events.append(Event.values(request, 'repeat', gettext(
                        'crm_service.msg_event_repeat',
                        request=other.rec_name,
                        priority=cls._priority_label(priority))))
        if to_write:
            cls.write(*to_write)
            Event.record(events)

    @classmethod
    def _priority_label(cls, priority):
        return dict(cls.fields_get(['priority'])['priority']['selection'])[
            priority]

    @classmethod
    @ModelView.button
    @Workflow.transition('waiting')
    def wait(cls, requests):
        "The SLA clock stops while the customer has to answer"
        Event = Pool().get('telecom.service_request.event')
        Event.log(requests, 'waiting')
        cls._sla_pause(requests)

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def resume(cls, requests):
        Event = Pool().get('telecom.service_request.event')
        Event.log(requests, 'resumed')
        cls._sla_resume(requests)

    @classmethod
    @ModelView.button
    @Workflow.transition('resolved')
    @set_employee('resolved_by')
    def resolve(cls, requests):
        Event = Pool().get('telecom.service_request.event')
        for request in requests:
            if not (request.resolution or '').strip():
                raise ServiceValidationError(gettext(
                        'crm_service.msg_request_no_resolution',
                        request=request.rec_name))
            pending = [h for h in request.handlings if h.state == 'open']
            if pending:
                raise ServiceError(gettext(
                        'crm_service.msg_request_handling_open',
                        request=request.rec_name,
                        handler=pending[0].rec_name))
        cls.write(requests, {'resolved_at': dt.datetime.now()})
        Event.record([Event.values(r, 'resolved', r.resolution)
                for r in requests])
        cls._sla_stop(requests)

    @classmethod
    @ModelView.button
    def confirm(cls, requests):
        "The customer confirmed the resolution: the request is closed"
        Event = Pool().get('telecom.service_request.event')
        requests = [r for r in requests if r.state == 'resolved']
        if not requests:
            return
        cls.write(requests, {'customer_confirmed': True})
        Event.log(requests, 'confirmed')
        cls.close(requests)

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    @set_employee('closed_by')
    def close(cls, requests):
        Event = Pool().get('telecom.service_request.event')
        for request in requests:
            if request.type == 'complaint' and not (
                    request.customer_confirmed
                    or request.return_visit_failed):
                raise ServiceError(gettext(
                        'crm_service.msg_complaint_close_unconfirmed',
                        request=request.rec_name))
        cls.write(requests, {'closed_at': dt.datetime.now()})
        Event.log(requests, 'closed')

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, requests, reason=None):
        "Back to the owner: the customer is not satisfied"
        Event = Pool().get('telecom.service_request.event')
        cls.write(requests, {
                'resolved_at': None,
                'resolved_by': None,
                'closed_at': None,
                'closed_by': None,
                'customer_confirmed': False,
                })
        Event.log(requests, 'reopened', reason)
        cls._sla_reopen(requests)

    @classmethod
    @ModelView.button_action('crm_service.wizard_request_merge')
    def merge_wizard(cls, requests):
        pass

    @classmethod
    def merge(cls, duplicates, target):
        """Merge duplicates into target: their contacts move to it, every
        one kept, and the duplicates stop counting"""
        pool = Pool()
        Contact = pool.get('telecom.service_request.contact')
        Event = pool.get('telecom.service_request.event')
        for duplicate in duplicates:
            if duplicate == target or duplicate.customer != target.customer:
                raise ServiceError(gettext(
                        'crm_service.msg_request_merge_other',
                        request=duplicate.rec_name,
                        target=target.rec_name))
        if target.state not in LIVE_STATES + ['resolved']:
            raise ServiceError(gettext(
                    'crm_service.msg_request_merge_target',
                    target=target.rec_name, state=target.state_string))
        contacts = [c for d in duplicates for c in d.contacts]
        if contacts:
            Contact.write(contacts, {'request': target.id})
        cls._merged(duplicates, target)
        Event.record(
            [Event.values(d, 'merged', gettext(
                        'crm_service.msg_event_merged_into',
                        target=target.rec_name)) for d in duplicates]
            + [Event.values(target, 'merged', gettext(
                        'crm_service.msg_event_merged_from',
                        requests='、'.join(d.rec_name for d in duplicates)))])

    @classmethod
    @Workflow.transition('merged')
    def _merged(cls, duplicates, target):
        cls.write(duplicates, {'merged_into': target.id})
        cls._sla_stop(duplicates)


class MergeStart(ModelView):
    "Merge service requests"
    __name__ = 'telecom.service_request.merge.start'

    target = fields.Many2One('telecom.service_request', "Merge into",
        required=True, domain=[
            ('customer', '=', Eval('customer', -1)),
            ('id', 'not in', Eval('duplicates', [])),
            ('state', 'in', LIVE_STATES + ['resolved']),
            ],
        help="The request that goes on; the others' contacts move to it.")
    customer = fields.Many2One('party.party', "Customer", readonly=True)
    duplicates = fields.Many2Many('telecom.service_request', None, None,
        "Duplicates", readonly=True)


class Merge(Wizard):
    "Merge service requests"
    __name__ = 'telecom.service_request.merge'
    start = StateView('telecom.service_request.merge.start',
        'crm_service.request_merge_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Merge", 'merge', 'tryton-ok', default=True),
            ])
    merge = StateTransition()

    def default_start(self, fields):
        customers = {r.customer.id for r in self.records}
        if len(customers) != 1:
            raise ServiceError(gettext(
                    'crm_service.msg_request_merge_customers'))
        return {
            'customer': customers.pop(),
            'duplicates': [r.id for r in self.records],
            }

    def transition_merge(self):
        Request = Pool().get('telecom.service_request')
        Request.merge(list(self.records), self.start.target)
        return 'end'

