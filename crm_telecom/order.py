import datetime as dt

from sql.aggregate import Count

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.model.fields import SQL_OPERATORS
from trytond.modules.company.model import employee_field, set_employee
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.tools import grouped_slice
from trytond.tools import timezone as tz
from trytond.transaction import Transaction, without_check_access

from . import iccid, identity
from .company import default_company
from .exceptions import NumberError, OrderError, RealNameError
from .subscriber import SUSPENSION_REASONS

ORDER_TYPES = [
    ('activate', "Activation"),
    ('change_plan', "Plan Change"),
    ('add_service', "Add Service"),
    ('remove_service', "Remove Service"),
    ('suspend', "Suspension"),
    ('resume', "Resumption"),
    ('transfer', "Ownership Transfer"),
    ('terminate', "Termination"),
    ]
ORDER_STATES = [
    ('draft', "Draft"),
    ('submitted', "Submitted"),
    ('provisioning', "Provisioning"),
    ('done', "Done"),
    ('failed', "Failed"),
    ('cancelled', "Cancelled"),
    ]
OPEN_STATES = ['draft', 'submitted', 'provisioning']
LIVE_LINE_STATES = ['draft', 'active', 'suspended']
# Line state each order type needs before it can run
REQUIRED_LINE_STATES = {
    'change_plan': ['active'],
    'add_service': ['active'],
    'remove_service': ['active', 'suspended'],
    'suspend': ['active'],
    'resume': ['suspended'],
    'transfer': ['active', 'suspended'],
    'terminate': ['active', 'suspended'],
    }

_draft = Eval('state') != 'draft'
_type = Eval('type')
# the steps of the network (the network's acknowledgement, by hand when it
# cannot): not shown at all to the roles whose groups lack them
NETWORK_BUTTONS = {'complete', 'fail'}
# where each step goes in the progress text (extensions fill in between)
PROGRESS_SUBMITTED, PROGRESS_NETWORK, PROGRESS_OUTCOME = 10, 20, 30
# a draft activation holds its number before the rest is chosen (the
# activation wizard reserves it first), and may be cancelled so; submitting
# it requires them
_activation_required = (_type == 'activate') & ~Eval('state').in_(
    ['draft', 'cancelled'])


class Order(Workflow, ModelSQL, ModelView):
    "Service order: the only way a line changes"
    __name__ = 'telecom.order'
    _rec_name = 'code'

    code = fields.Char("Code", readonly=True)
    type = fields.Selection(ORDER_TYPES, "Type", required=True,
        states={'readonly': _draft | Bool(Eval('subscriber'))
            & (Eval('id', -1) >= 0)})
    state = fields.Selection(ORDER_STATES, "State", required=True,
        readonly=True, sort=False)
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', states={'readonly': _draft})
    customer = fields.Many2One('party.party', "Customer", required=True,
        ondelete='RESTRICT', states={'readonly': _draft})
    subscriber = fields.Many2One('telecom.subscriber', "Line",
        ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            If(Eval('customer'),
                ('customer', '=', Eval('customer', -1)), ()),
            ],
        states={
            'readonly': _draft,
            'invisible': _type == 'activate',
            'required': _type != 'activate',
            })
    number = fields.Many2One('telecom.number', "Number", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            If(_draft, (), ('state', '=', 'available')),
            ],
        states={
            'readonly': _draft,
            'invisible': _type != 'activate',
            'required': _type == 'activate',
            })
    line_number = fields.Function(fields.Char("Mobile Number",
            help="The number the order is for: the one being activated, "
            "or the line's."),
        'on_change_with_line_number', searcher='search_line_number')
    iccid = fields.Char("ICCID", states={
            'readonly': _draft,
            'invisible': _type != 'activate',
            })
    account = fields.Many2One('telecom.account', "Billing Account",
        ondelete='RESTRICT',
        # only the accounts of whoever will hold the line
        domain=[
            ('company', '=', Eval('company', -1)),
            If(_type == 'transfer',
                ('payer', '=', Eval('new_owner', -1)),
                ('payer', '=', Eval('customer', -1))),
            ],
        states={
            'readonly': _draft,
            'invisible': ~_type.in_(['activate', 'transfer']),
            'required': (_type == 'transfer') | _activation_required,
            },
        help="For a transfer, the new owner's account.")
    brand = fields.Many2One('telecom.brand', "Brand", ondelete='RESTRICT',
        states={
            'readonly': _draft,
            'invisible': _type != 'activate',
            'required': _activation_required,
            })
    plan = fields.Many2One('product.template', "Plan", ondelete='RESTRICT',
        domain=[('telecom_type', '=', 'plan')],
        states={
            'readonly': _draft,
            'invisible': ~_type.in_(['activate', 'change_plan']),
            'required': (_type == 'change_plan') | _activation_required,
            })
    service = fields.Many2One('product.template', "Service",
        ondelete='RESTRICT',
        domain=[('telecom_type', 'in', ['addon', 'vas'])],
        states={
            'readonly': _draft,
            'invisible': _type != 'add_service',
            'required': _type == 'add_service',
            })
    services = fields.Many2Many('telecom.order-product.template', 'order',
        'service', "Add-ons and Services",
        domain=[('telecom_type', 'in', ['addon', 'vas'])],
        states={
            'readonly': _draft,
            'invisible': _type != 'activate',
            },
        help="Taken with the plan: the line starts with them, in the same "
        "network request.")
    subscriber_service = fields.Many2One('telecom.subscriber.service',
        "Service to Remove", ondelete='RESTRICT',
        domain=[
            ('subscriber', '=', Eval('subscriber', -1)),
            ('state', '!=', 'removed'),
            ],
        states={
            'readonly': _draft,
            'invisible': _type != 'remove_service',
            'required': _type == 'remove_service',
            })
    new_owner = fields.Many2One('party.party', "New Owner",
        ondelete='RESTRICT',
        states={
            'readonly': _draft,
            'invisible': _type != 'transfer',
            'required': _type == 'transfer',
            })
    suspension_reason = fields.Selection(SUSPENSION_REASONS,
        "Suspension Reason", sort=False, states={
            'readonly': _draft,
            'invisible': _type != 'suspend',
            'required': _type == 'suspend',
            })
    reason = fields.Text("Reason", states={'readonly': _draft})
    effective_date = fields.Date("Takes Effect", readonly=True,
        help="For plan changes at the next cycle: when the new plan starts.")
    failure_reason = fields.Text("Failure Reason", readonly=True,
        states={'invisible': Eval('state') != 'failed'})
    submitted_by = fields.Many2One('res.user', "Submitted By", readonly=True)
    submitted_employee = employee_field("Submitted by Employee",
        states=['draft', 'submitted', 'provisioning', 'done', 'failed',
            'cancelled'])
    submitted_at = fields.DateTime("Submitted At", readonly=True)
    done_at = fields.DateTime("Done At", readonly=True)
    progress = fields.Function(fields.Text("Progress",
            states={'invisible': ~Eval('progress')},
            help="Where the order stands: each step it went through and "
            "when."),
        'get_progress')
    type_string = type.translated('type')
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'crm_telecom.msg_order_code_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.customer, Index.Range())),
                Index(t, (t.subscriber, Index.Range())),
                Index(t, (t.number, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state.in_(OPEN_STATES)),
                })
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'provisioning'),
            ('provisioning', 'done'),
            ('provisioning', 'failed'),
            ('draft', 'cancelled'),
            ('submitted', 'cancelled'),
            }
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'complete': {
                    'invisible': Eval('state') != 'provisioning',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'fail': {
                    'invisible': Eval('state') != 'provisioning',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'submitted']),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return default_company()

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_type(cls):
        return 'activate'

    @classmethod
    def parse_view(cls, tree, type, *args, **kwargs):
        # Tryton greys out a button whose groups the user lacks; the
        # network's steps are removed instead: front-office staff must not
        # be offered them (the view is cached per set of groups)
        pool = Pool()
        Button = pool.get('ir.model.button')
        User = pool.get('res.user')
        groups = set(User.get_groups())
        for name in NETWORK_BUTTONS:
            button_groups = Button.get_groups(cls.__name__, name)
            if button_groups and not groups & button_groups:
                for element in tree.xpath('//button[@name="%s"]' % name):
                    element.getparent().remove(element)
        return super().parse_view(tree, type, *args, **kwargs)

    @fields.depends('number', 'subscriber', '_parent_subscriber.number')
    def on_change_with_line_number(self, name=None):
        number = self.number or (
            self.subscriber.number if self.subscriber else None)
        if number:
            return number.number

    @classmethod
    def search_line_number(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') or operator.startswith(
            'not ') else 'OR'
        return [bool_op,
            ('number.number', operator, value),
            ('subscriber.number.number', operator, value),
            ]

    @fields.depends('subscriber', 'customer')
    def on_change_subscriber(self):
        if self.subscriber and not self.customer:
            self.customer = self.subscriber.customer

    @fields.depends('customer', 'account', 'type', 'company')
    def on_change_customer(self):
        Account = Pool().get('telecom.account')
        if (self.customer and self.company and self.type == 'activate'
                and not self.account and self.customer.id >= 0):
            self.account = Account.proposed(self.customer, self.company)

    # --- progress ---------------------------------------------------------

    @classmethod
    def get_progress(cls, orders, name):
        steps = cls._progress_steps(orders)
        return {o.id: '\n'.join(text for _, text in sorted(
                    steps.get(o.id, {}).items())) or None
            for o in orders}

    @classmethod
    def _progress_steps(cls, orders):
        """{order id: {position: text}}: submitted, waiting for the network,
        the outcome; crm_provisioning tells what the network did between"""
        steps = {}
        for order in orders:
            order_steps = steps[order.id] = {}
            if order.submitted_at:
                who = order.submitted_employee or order.submitted_by
                order_steps[PROGRESS_SUBMITTED] = gettext(
                    'crm_telecom.msg_order_progress_submitted',
                    time=order.format_time(order.submitted_at),
                    who=who.rec_name if who else '-')
            if order.state == 'provisioning':
                order_steps[PROGRESS_NETWORK] = gettext(
                    'crm_telecom.msg_order_progress_waiting')
            elif order.state == 'done':
                order_steps[PROGRESS_OUTCOME] = gettext(
                    'crm_telecom.msg_order_progress_done',
                    time=order.format_time(order.done_at))
            elif order.state == 'failed':
                order_steps[PROGRESS_OUTCOME] = gettext(
                    'crm_telecom.msg_order_progress_failed',
                    reason=order.failure_reason or '-')
            elif order.state == 'cancelled':
                order_steps[PROGRESS_OUTCOME] = gettext(
                    'crm_telecom.msg_order_progress_cancelled')
        return steps

    def format_time(self, value):
        "A stored (UTC) time as staff read it: in the company's time zone"
        if not value:
            return '-'
        zone = self.company.timezone if self.company else None
        if zone:
            value = value.replace(tzinfo=tz.UTC).astimezone(
                tz.get_tzinfo(zone))
        return value.strftime('%Y-%m-%d %H:%M:%S')

    # --- creation: number reservation -------------------------------------

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('code'):
            values['code'] = Configuration(1).order_sequence.get()
        return values

    @classmethod
    def on_modification(cls, mode, orders, field_names=None):
        super().on_modification(mode, orders, field_names=field_names)
        if mode == 'create' or (field_names and 'number' in field_names):
            cls._reserve_numbers(orders)

    @classmethod
    def _reserve_numbers(cls, orders):
        pool = Pool()
        Number = pool.get('telecom.number')
        Configuration = pool.get('telecom.configuration')
        hours = Configuration(1).reservation_hours
        until = dt.datetime.now() + dt.timedelta(hours=hours)
        for order in orders:
            if order.type != 'activate' or order.state != 'draft':
                continue
            # a number changed on a draft order goes back to the pool
            stale = Number.search([
                    ('reserved_order', '=', order.id),
                    ('id', '!=', order.number.id if order.number else -1),
                    ])
            Number.release(stale)
            if order.number and order.number.reserved_order != order:
                Number.reserve(order.number, order, until)

    @classmethod
    def _validate(cls, orders, field_names=None):
        # before the generic domain check of the number: the suite's own
        # message, naming the number and its state
        if field_names is None or 'number' in field_names:
            cls._check_number_available(orders)
        super()._validate(orders, field_names=field_names)

    @classmethod
    def _check_number_available(cls, orders):
        for order in orders:
            number = order.number
            if (order.state == 'draft' and number
                    and number.state != 'available'
                    and number.reserved_order != order):
                raise NumberError(gettext(
                        'crm_telecom.msg_number_not_available',
                        number=number.number, state=number.state_string))

    @classmethod
    def copy(cls, records, default=None):
        # a copy is a new record with a code of its own
        default = default.copy() if default is not None else {}
        default.setdefault('code', None)
        return super().copy(records, default=default)

    @classmethod
    def check_modification(cls, mode, orders, values=None, external=False):
        super().check_modification(
            mode, orders, values=values, external=external)
        if mode == 'delete':
            for order in orders:
                if order.state not in {'draft', 'cancelled'}:
                    raise OrderError(gettext(
                            'crm_telecom.msg_order_delete_state',
                            order=order.rec_name))

    @classmethod
    def on_delete(cls, orders):
        callback = super().on_delete(orders)
        cls._release_reserved(orders)
        return callback

    # --- workflow ---------------------------------------------------------

    @classmethod
    @ModelView.button
    def submit(cls, orders):
        """The clerk's one button: a valid order is submitted and handed to
        the network at once"""
        cls._submit(orders)
        cls.provision([o for o in orders if o.state == 'submitted'])

    @classmethod
    @Workflow.transition('submitted')
    @set_employee('submitted_employee')
    def _submit(cls, orders):
        cls.check_orders(orders)
        now = dt.datetime.now()
        cls.write(orders, {
                'submitted_by': Transaction().user or None,
                'submitted_at': now,
                })

    @classmethod
    def provision(cls, orders):
        """Hand submitted orders to the network (a step of submit, not a
        button). The orders it acknowledges at once complete now; the others
        when it acknowledges them later."""
        orders = cls._start_provisioning(orders)
        # completing on the acknowledgement is the system's step, which the
        # clerk's own rights do not cover (the button is the operators')
        with without_check_access():
            cls.complete(cls._acknowledged_at_once(orders))

    @classmethod
    def _acknowledged_at_once(cls, orders):
        """The orders that complete without waiting for the network: all
        of them here, where no network is connected (crm_provisioning
        sends them to it)"""
        return orders

    @classmethod
    @Workflow.transition('provisioning')
    def _start_provisioning(cls, orders):
        # checked by _submit, in the same transaction
        return orders

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def complete(cls, orders):
        "The network acknowledged: apply the orders to their lines"
        cls.check_orders(orders)
        cls.apply(orders)
        cls.write(orders, {'done_at': dt.datetime.now()})

    @classmethod
    @ModelView.button
    @Workflow.transition('failed')
    def fail(cls, orders, reason=None):
        cls._release_reserved(orders)
        if reason:
            cls.write(orders, {'failure_reason': reason})

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, orders):
        cls._release_reserved(orders)

    @classmethod
    def _release_reserved(cls, orders):
        pool = Pool()
        Number = pool.get('telecom.number')
        numbers = Number.search([
                ('reserved_order', 'in', [o.id for o in orders]),
                ('state', '=', 'reserved'),
                ])
        Number.release(numbers)

    @classmethod
    def process(cls, orders):
        """Submit the draft orders among orders (scripts, demo): done at
        once without a provisioning endpoint, else when acknowledged"""
        cls.submit([o for o in orders if o.state == 'draft'])

    @classmethod
    def cancel_expired_reservations(cls):
        "Cron: draft activations whose number reservation ran out"
        pool = Pool()
        Number = pool.get('telecom.number')
        numbers = Number.search([
                ('state', '=', 'reserved'),
                ('reserved_until', '<', dt.datetime.now()),
                ('reserved_order.state', '=', 'draft'),
                ])
        cls.cancel([n.reserved_order for n in numbers])

    # --- rules ------------------------------------------------------------

    @classmethod
    def check_orders(cls, orders):
        cls._check_one_open_order(orders)
        for order in orders:
            getattr(order, '_check_%s' % order.type)()

    @classmethod
    def _check_one_open_order(cls, orders):
        "A line has at most one order in progress"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        subscriber_ids = [o.subscriber.id for o in orders if o.subscriber]
        for sub_ids in grouped_slice(subscriber_ids, 1000):
            cursor.execute(*table.select(table.subscriber,
                    where=SQL_OPERATORS['in'](table.subscriber, list(sub_ids))
                    & table.state.in_(['submitted', 'provisioning'])
                    # unsaved orders (a wizard's check) have no id yet
                    & ~table.id.in_([o.id for o in orders
                            if o.id is not None] or [-1]),
                    limit=1))
            row = cursor.fetchone()
            if row:
                subscriber = Pool().get('telecom.subscriber')(row[0])
                raise OrderError(gettext(
                        'crm_telecom.msg_order_line_busy',
                        line=subscriber.rec_name))

    def _check_line_state(self):
        allowed = REQUIRED_LINE_STATES[self.type]
        if self.subscriber.state not in allowed:
            raise OrderError(gettext('crm_telecom.msg_order_line_state',
                    order=self.type_string, line=self.subscriber.rec_name,
                    state=self.subscriber.state_string))

    @classmethod
    def check_real_name(cls, party, exclude=None):
        """Real-name rules for the person who will hold a new line (not
        blacklisted, a valid resident ID, under the lines-per-identity
        limit, not counting the order exclude); return the resident ID.
        Checked on submit, and by the activation wizard before anything
        else."""
        code = cls._check_identity(party)
        cls._check_line_quota(code, exclude=exclude)
        return code

    @classmethod
    def _check_identity(cls, party):
        "Real-name rules for the person who will hold the line"
        if party.blacklisted:
            raise RealNameError(gettext(
                    'crm_telecom.msg_customer_blacklisted',
                    customer=party.rec_name,
                    reason=party.blacklist_reason or ''))
        identifier = party.cn_identifier
        if not identifier or not identity.is_valid(identifier.code):
            raise RealNameError(gettext(
                    'crm_telecom.msg_real_name_missing',
                    customer=party.rec_name))
        return identifier.code

    @classmethod
    def _check_line_quota(cls, code, exclude=None):
        "At most N live lines (and lines on their way) per identity"
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        Subscriber = pool.get('telecom.subscriber')
        Identifier = pool.get('party.identifier')
        limit = Configuration(1).max_lines_per_identity
        subscriber = Subscriber.__table__()
        order = cls.__table__()
        identifier = Identifier.__table__()
        holders = identifier.select(identifier.party,
            where=(identifier.type == identity.TYPE)
            & (identifier.code_compact == identity.compact(code)))
        cursor = Transaction().connection.cursor()
        cursor.execute(*subscriber.select(Count(subscriber.id),
                where=subscriber.customer.in_(holders)
                & subscriber.state.in_(LIVE_LINE_STATES)))
        lines, = cursor.fetchone()
        cursor.execute(*order.select(Count(order.id),
                where=(order.type == 'activate')
                & order.state.in_(['submitted', 'provisioning'])
                & order.customer.in_(holders)
                & (order.id != (exclude if exclude is not None else -1))))
        pending, = cursor.fetchone()
        if lines + pending >= limit:
            raise RealNameError(gettext(
                    'crm_telecom.msg_real_name_quota',
                    identity=identity.mask(code), count=lines + pending,
                    limit=limit))

    def _check_activate(self):
        code = self.check_real_name(self.customer, exclude=self.id)
        self._check_complete_activation()
        age = identity.age(code, Pool().get('ir.date').today())
        for product in [self.plan, *self.services]:
            product.check_eligibility(brand=self.brand, age=age)
        if (self.number.state != 'reserved'
                or self.number.reserved_order != self):
            raise OrderError(gettext(
                    'crm_telecom.msg_number_not_reserved',
                    number=self.number.number, order=self.rec_name))

    def _check_complete_activation(self):
        "What a draft activation may still lack when it is saved"
        missing = [name for name in ['brand', 'plan', 'account', 'iccid']
            if not getattr(self, name)]
        if missing:
            names = self.fields_get(missing)
            raise OrderError(gettext('crm_telecom.msg_order_incomplete',
                    order=self.rec_name,
                    fields=', '.join(names[n]['string'] for n in missing)))
        iccid.check(self.iccid)

    def _check_change_plan(self):
        self._check_line_state()
        if self.plan == self.subscriber.plan:
            raise OrderError(gettext('crm_telecom.msg_order_same_plan',
                    line=self.subscriber.rec_name, plan=self.plan.rec_name))
        self.plan.check_eligibility(brand=self.subscriber.brand,
            age=self.subscriber.customer.identity_age)

    def _check_add_service(self):
        self._check_line_state()
        for service in self.subscriber.services:
            if service.state != 'removed' and service.product == self.service:
                raise OrderError(gettext(
                        'crm_telecom.msg_order_service_present',
                        line=self.subscriber.rec_name,
                        service=self.service.rec_name))
        self.service.check_eligibility(brand=self.subscriber.brand)

    def _check_remove_service(self):
        self._check_line_state()
        if (self.subscriber_service.subscriber != self.subscriber
                or self.subscriber_service.state == 'removed'):
            raise OrderError(gettext(
                    'crm_telecom.msg_order_service_absent',
                    line=self.subscriber.rec_name,
                    service=self.subscriber_service.rec_name))

    def _check_suspend(self):
        self._check_line_state()

    def _check_resume(self):
        self._check_line_state()

    def _check_transfer(self):
        self._check_line_state()
        if self.new_owner == self.subscriber.customer:
            raise OrderError(gettext('crm_telecom.msg_order_same_owner',
                    line=self.subscriber.rec_name))
        self.check_real_name(self.new_owner, exclude=self.id)

    def _check_terminate(self):
        self._check_line_state()

    # --- application (only when done) -------------------------------------

    @classmethod
    def apply(cls, orders):
        pool = Pool()
        Event = pool.get('telecom.subscriber.event')
        events = []
        for order in orders:
            events.extend(getattr(order, '_apply_%s' % order.type)())
        Event.save(events)

    def _apply_activate(self):
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        Number = pool.get('telecom.number')
        Event = pool.get('telecom.subscriber.event')
        Number.activate(self.number, self)
        subscriber = Subscriber(number=self.number, iccid=self.iccid,
            customer=self.customer, account=self.account,
            company=self.company, brand=self.brand,
            plan=self.plan, region=self.number.region or self.customer.region,
            state='active', activation_date=pool.get('ir.date').today())
        subscriber.save()
        pool.get('telecom.subscriber.plan').change(
            [(subscriber, self.plan, subscriber.activation_date)])
        self.subscriber = subscriber
        self.save()
        events = [Event.build(subscriber, 'activate', from_state='draft',
                to_state='active', reason=self.reason, order=self)]
        return events + self._add_services(subscriber, self.services)

    def _add_services(self, subscriber, products):
        "The services of products on the line, and their events"
        pool = Pool()
        Service = pool.get('telecom.subscriber.service')
        Event = pool.get('telecom.subscriber.event')
        today = pool.get('ir.date').today()
        services = Service.create([{
                    'subscriber': subscriber.id,
                    'product': p.id,
                    'state': 'active',
                    'start_date': today,
                    'order': self.id,
                    } for p in products])
        return [Event.build(subscriber, 'add_service', order=self,
                service=s, reason=self.reason) for s in services]

    def _apply_change_plan(self):
        pool = Pool()
        Event = pool.get('telecom.subscriber.event')
        subscriber = self.subscriber
        event = Event.build(subscriber, 'change_plan', order=self,
            reason=self.reason or '%s → %s' % (
                subscriber.plan.rec_name, self.plan.rec_name))
        if subscriber.plan.plan_change_effective == 'immediate':
            subscriber.plan = self.plan
            subscriber.pending_plan = subscriber.pending_plan_date = None
            pool.get('telecom.subscriber.plan').change(
                [(subscriber, self.plan, pool.get('ir.date').today())])
        else:
            today = pool.get('ir.date').today()
            subscriber.pending_plan = self.plan
            subscriber.pending_plan_date = (
                subscriber.account.next_cycle_start(today))
            self.effective_date = subscriber.pending_plan_date
            self.save()
        subscriber.save()
        return [event]

    def _apply_add_service(self):
        return self._add_services(self.subscriber, [self.service])

    def _apply_remove_service(self):
        pool = Pool()
        Event = pool.get('telecom.subscriber.event')
        service = self.subscriber_service
        service.state = 'removed'
        service.end_date = pool.get('ir.date').today()
        service.save()
        return [Event.build(self.subscriber, 'remove_service', order=self,
                service=service, reason=self.reason)]

    def _apply_suspend(self):
        pool = Pool()
        Service = pool.get('telecom.subscriber.service')
        Event = pool.get('telecom.subscriber.event')
        subscriber = self.subscriber
        events = [Event.build(subscriber, 'suspend', to_state='suspended',
                order=self, reason=self.reason)]
        subscriber.state = 'suspended'
        subscriber.suspension_reason = self.suspension_reason
        subscriber.save()
        services = [s for s in subscriber.services if s.state == 'active']
        Service.write(services, {'state': 'suspended'})
        events.extend(Event.build(subscriber, 'service_suspended',
                order=self, service=s, reason=self.reason) for s in services)
        return events

    def _apply_resume(self):
        pool = Pool()
        Service = pool.get('telecom.subscriber.service')
        Event = pool.get('telecom.subscriber.event')
        subscriber = self.subscriber
        events = [Event.build(subscriber, 'resume', to_state='active',
                order=self, reason=self.reason)]
        subscriber.state = 'active'
        subscriber.suspension_reason = None
        subscriber.save()
        # every service the suspension stopped comes back with it
        services = [s for s in subscriber.services if s.state == 'suspended']
        Service.write(services, {'state': 'active'})
        events.extend(Event.build(subscriber, 'service_resumed',
                order=self, service=s, reason=self.reason) for s in services)
        return events

    def _apply_transfer(self):
        pool = Pool()
        Event = pool.get('telecom.subscriber.event')
        subscriber = self.subscriber
        event = Event.build(subscriber, 'transfer', order=self,
            reason=self.reason or '%s → %s' % (
                subscriber.customer.rec_name, self.new_owner.rec_name))
        subscriber.customer = self.new_owner
        subscriber.account = self.account
        subscriber.save()
        return [event]

    def _apply_terminate(self):
        pool = Pool()
        Number = pool.get('telecom.number')
        Service = pool.get('telecom.subscriber.service')
        Event = pool.get('telecom.subscriber.event')
        Configuration = pool.get('telecom.configuration')
        subscriber = self.subscriber
        today = pool.get('ir.date').today()
        events = [Event.build(subscriber, 'terminate', to_state='terminated',
                order=self, reason=self.reason)]
        subscriber.state = 'terminated'
        subscriber.termination_date = today
        subscriber.pending_plan = subscriber.pending_plan_date = None
        subscriber.save()
        services = [s for s in subscriber.services if s.state != 'removed']
        Service.write(services, {'state': 'removed', 'end_date': today})
        Number.cool([subscriber.number], Configuration(1).cooling_days)
        # the day of termination is still a day in service
        pool.get('telecom.subscriber.plan').change(
            [(subscriber, None, today + dt.timedelta(days=1))])
        return events


class OrderService(ModelSQL):
    "Add-on or value-added service taken with an activation"
    __name__ = 'telecom.order-product.template'

    order = fields.Many2One('telecom.order', "Order", required=True,
        ondelete='CASCADE')
    service = fields.Many2One('product.template', "Service", required=True,
        ondelete='RESTRICT',
        domain=[('telecom_type', 'in', ['addon', 'vas'])])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.order, Index.Range())))
