import datetime as dt

from sql.operators import Equal

from trytond.model import Exclude, Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from .company import default_company
from .extra_field import ExtraValues, ExtraValuesMixin

SUBSCRIBER_STATES = [
    ('draft', "Draft"),
    ('active', "Active"),
    ('suspended', "Suspended"),
    ('terminated', "Terminated"),
    ]
SUSPENSION_REASONS = [
    (None, ""),
    ('customer_request', "Customer Request"),
    ('loss', "Lost SIM or Phone"),
    ('arrears', "Arrears"),
    ('fraud', "Suspected Fraud"),
    ('other', "Other"),
    ]
EVENT_TYPES = [
    ('activate', "Activation"),
    ('change_plan', "Plan Change"),
    ('plan_applied', "Scheduled Plan Applied"),
    ('add_service', "Service Added"),
    ('remove_service', "Service Removed"),
    ('suspend', "Suspension"),
    ('resume', "Resumption"),
    ('service_suspended', "Service Suspended"),
    ('service_resumed', "Service Restored"),
    ('transfer', "Ownership Transfer"),
    ('terminate', "Termination"),
    ]

# the system steps that apply changes nobody clicked for at that moment
EVENT_STEPS = [
    (None, ""),
    ('network', "Network Acknowledgement"),
    ('system', "System"),
    ]


class Subscriber(ExtraValuesMixin, ModelSQL, ModelView):
    "Subscriber line: one number in service for a customer"
    __name__ = 'telecom.subscriber'

    number = fields.Many2One('telecom.number', "Number", required=True,
        ondelete='RESTRICT', readonly=True)
    iccid = fields.Char("ICCID", readonly=True,
        help="SIM card serial number.")
    customer = fields.Many2One('party.party', "Customer", required=True,
        ondelete='RESTRICT', readonly=True)
    account = fields.Many2One('telecom.account', "Billing Account",
        required=True, ondelete='RESTRICT', readonly=True)
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', readonly=True,
        help="The company whose network and bills the line is on.")
    brand = fields.Many2One('telecom.brand', "Brand", required=True,
        ondelete='RESTRICT', readonly=True)
    plan = fields.Many2One('product.template', "Plan", required=True,
        ondelete='RESTRICT', readonly=True,
        domain=[('telecom_type', '=', 'plan')])
    pending_plan = fields.Many2One('product.template', "Next Plan",
        ondelete='RESTRICT', readonly=True,
        domain=[('telecom_type', '=', 'plan')],
        help="Plan that takes over at the start of the next bill cycle.")
    pending_plan_date = fields.Date("Next Plan From", readonly=True)
    region = fields.Many2One('telecom.region', "Region", ondelete='RESTRICT',
        readonly=True)
    services = fields.One2Many('telecom.subscriber.service', 'subscriber',
        "Services", readonly=True)
    state = fields.Selection(SUBSCRIBER_STATES, "State", required=True,
        readonly=True, sort=False)
    suspension_reason = fields.Selection(SUSPENSION_REASONS,
        "Suspension Reason", readonly=True, sort=False)
    activation_date = fields.Date("Activation Date", readonly=True)
    termination_date = fields.Date("Termination Date", readonly=True)
    plan_periods = fields.One2Many('telecom.subscriber.plan', 'subscriber',
        "Plan History", readonly=True,
        order=[('start_date', 'DESC'), ('id', 'DESC')])
    events = fields.One2Many('telecom.subscriber.event', 'subscriber',
        "History", readonly=True, order=[('date', 'DESC'), ('id', 'DESC')])
    orders = fields.One2Many('telecom.order', 'subscriber', "Orders",
        readonly=True)
    extra = ExtraValues('telecom.extra_field', "Extra Fields",
        domain=[('target', '=', 'telecom.subscriber')])
    extra_string = extra.translated('extra')
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The database itself refuses a second live line on one number
        cls._sql_constraints = [
            ('number_live_unique', Exclude(t, (t.number, Equal),
                    where=t.state != 'terminated'),
                'crm_telecom.msg_subscriber_number_live'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.number, Index.Range())),
                Index(t, (t.customer, Index.Range())),
                Index(t, (t.account, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.pending_plan_date, Index.Range()),
                    where=t.pending_plan_date != None),  # noqa: E711
                })
        cls._order = [('id', 'DESC')]

    @classmethod
    def default_company(cls):
        return default_company()

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def validate_fields(cls, subscribers, field_names):
        super().validate_fields(subscribers, field_names)
        if field_names is None or 'extra' in field_names:
            Pool().get('telecom.extra_field').check_values(subscribers)

    def get_rec_name(self, name):
        return self.number.number

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        return [('number.number', operator, operand, *extra)]

    @classmethod
    def send_sms(cls, messages):
        """Text lines in one batch: dicts with 'subscriber' (instance),
        'event' and 'text'. Without a gateway (crm_provisioning) the
        messages have nowhere to go."""
        pass

    @classmethod
    def apply_pending_plans(cls, date=None):
        "Cron: switch lines to the plan they asked for at their new cycle"
        pool = Pool()
        Event = pool.get('telecom.subscriber.event')
        date = date or pool.get('ir.date').today()
        subscribers = cls.search([
                ('pending_plan_date', '<=', date),
                ('pending_plan', '!=', None),
                ('state', 'in', ['active', 'suspended']),
                ])
        PlanPeriod = pool.get('telecom.subscriber.plan')
        events, to_write, changes = [], [], []
        for subscriber in subscribers:
            events.append(Event.build(subscriber, 'plan_applied',
                    reason=subscriber.pending_plan.rec_name))
            changes.append((subscriber, subscriber.pending_plan,
                    subscriber.pending_plan_date))
            to_write.extend([[subscriber], {
                        'plan': subscriber.pending_plan.id,
                        'pending_plan': None,
                        'pending_plan_date': None,
                        }])
        if to_write:
            cls.write(*to_write)
            Event.save(events)
            PlanPeriod.change(changes)


class SubscriberPlan(ModelSQL, ModelView):
    "Plan a line had over a period: rating uses the plan of the day of use"
    __name__ = 'telecom.subscriber.plan'

    subscriber = fields.Many2One('telecom.subscriber', "Subscriber",
        required=True, ondelete='CASCADE', readonly=True)
    plan = fields.Many2One('product.template', "Plan", required=True,
        ondelete='RESTRICT', readonly=True)
    start_date = fields.Date("From", required=True, readonly=True)
    end_date = fields.Date("Until", readonly=True,
        help="First day the plan no longer applies (empty while current).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('subscriber')
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.subscriber, Index.Range()),
                (t.start_date, Index.Range())))
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def change(cls, changes):
        """Close the current period and open a new one from date
        for each (subscriber, plan, date); plan None only closes"""
        current = {p.subscriber.id: p for p in cls.search([
                    ('subscriber', 'in', [s.id for s, _, _ in changes]),
                    ('end_date', '=', None),
                    ])}
        to_write, to_create = [], []
        for subscriber, plan, date in changes:
            period = current.get(subscriber.id)
            if period:
                to_write.extend([[period], {'end_date': date}])
            if plan:
                to_create.append({'subscriber': subscriber.id,
                        'plan': plan.id, 'start_date': date})
        if to_write:
            cls.write(*to_write)
        if to_create:
            cls.create(to_create)


class SubscriberService(ModelSQL, ModelView):
    "Add-on or value-added service on a line"
    __name__ = 'telecom.subscriber.service'

    subscriber = fields.Many2One('telecom.subscriber', "Subscriber",
        required=True, ondelete='CASCADE')
    product = fields.Many2One('product.template', "Service", required=True,
        ondelete='RESTRICT',
        domain=[('telecom_type', 'in', ['addon', 'vas'])])
    state = fields.Selection([
            ('active', "Active"),
            ('suspended', "Suspended"),
            ('removed', "Removed"),
            ], "State", required=True, readonly=True)
    start_date = fields.Date("Start Date", readonly=True)
    end_date = fields.Date("End Date", readonly=True)
    order = fields.Many2One('telecom.order', "Order", readonly=True,
        ondelete='SET NULL')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('subscriber')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.subscriber, Index.Range())))

    @classmethod
    def default_state(cls):
        return 'active'

    def get_rec_name(self, name):
        return self.product.rec_name


class SubscriberEvent(ModelSQL, ModelView):
    "State change of a line: who, when, why and which order"
    __name__ = 'telecom.subscriber.event'

    subscriber = fields.Many2One('telecom.subscriber', "Subscriber",
        required=True, ondelete='CASCADE', readonly=True)
    date = fields.DateTime("Date", required=True, readonly=True)
    type = fields.Selection(EVENT_TYPES, "Type", required=True,
        readonly=True)
    from_state = fields.Selection(SUBSCRIBER_STATES + [(None, "")],
        "From State", readonly=True)
    to_state = fields.Selection(SUBSCRIBER_STATES + [(None, "")],
        "To State", readonly=True)
    user = fields.Many2One('res.user', "By", readonly=True,
        ondelete='SET NULL',
        help="Who asked for the change: the staff member who submitted "
        "the order, even when the network applied it later.")
    employee = fields.Many2One('company.employee', "Employee",
        readonly=True, ondelete='SET NULL',
        help="The employee who asked for the change.")
    step = fields.Selection(EVENT_STEPS, "Applied By", readonly=True,
        help="Which step of the system carried the change out when "
        "nobody's click did.")
    reason = fields.Text("Reason", readonly=True)
    order = fields.Many2One('telecom.order', "Order", readonly=True,
        ondelete='SET NULL')
    service = fields.Many2One('telecom.subscriber.service', "Service",
        readonly=True, ondelete='SET NULL')
    actor = fields.Function(fields.Char("By",
            help="The staff member who asked for the change or, when the "
            "system applied it on its own, that step."), 'get_actor')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('subscriber')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.subscriber, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def get_actor(cls, events, name):
        # one column for the history lists: who, or else which step
        steps = dict(cls.fields_get(['step'])['step']['selection'])
        return {e.id: e.user.rec_name if e.user else steps.get(e.step) or ''
            for e in events}

    @classmethod
    def build(cls, subscriber, type_, from_state=None, to_state=None,
            reason=None, order=None, service=None):
        """An unsaved event; the caller saves them in one batch.

        The event names who asked for it (the order's submitter) and, when
        the system applied it on its own (the network's acknowledgement,
        a scheduled task: no user in the transaction), that step."""
        transaction = Transaction()
        if order and order.submitted_by:
            user, employee = order.submitted_by, order.submitted_employee
        elif transaction.user:
            user = Pool().get('res.user')(transaction.user)
            employee = user.employee
        else:
            user = employee = None
        step = transaction.context.get('telecom_event_step')
        if not step and not transaction.user:
            step = 'system'
        return cls(subscriber=subscriber, type=type_,
            date=dt.datetime.now(),
            from_state=from_state or subscriber.state,
            to_state=to_state or subscriber.state,
            user=user, employee=employee, step=step, reason=reason,
            order=order,
            service=service)
