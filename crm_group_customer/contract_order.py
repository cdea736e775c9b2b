"""Group orders: the work an active contract dispatches, one order per
group product to open and per member change (a line joins, a member
leaves, a member's line changes plan through a service order). An order is
modified or withdrawn until it is done; every step is an event saying who,
when and what changed."""
import datetime as dt

from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import (
    Exclude,
    Index,
    Model,
    ModelSQL,
    ModelView,
    Workflow,
    fields,
)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

from crm_telecom.company import company_currency

from .contract import LIVE_STATES
from .exceptions import GroupError
from .opportunity import user_employee

KINDS = [
    ('product', "Group Product"),
    ('add_member', "Add Member"),
    ('remove_member', "Remove Member"),
    ('change_plan', "Change Member's Plan"),
    ]
STATES = [
    ('draft', "Draft"),
    ('dispatched', "Dispatched"),
    ('done', "Done"),
    ('withdrawn', "Withdrawn"),
    ]
OPEN_STATES = ['draft', 'dispatched']
# what a modification of an order records
TRACKED = ['product', 'quantity', 'monthly_fee', 'subscriber',
    'paid_by_group', 'member', 'plan']
# changed once the service order of a plan change is out: no more
NETWORK_FIXED = {'member', 'plan'}
_kind = Eval('kind')
_closed = ~Eval('state').in_(OPEN_STATES)


class GroupOrder(Workflow, ModelSQL, ModelView):
    "Group order"
    __name__ = 'telecom.group.order'
    _rec_name = 'code'

    code = fields.Char("Code", readonly=True)
    contract = fields.Many2One('telecom.group.contract', "Contract",
        required=True, ondelete='RESTRICT',
        domain=[If(Eval('state') == 'draft',
                ('state', 'in', LIVE_STATES), ())],
        states={'readonly': Eval('id', -1) >= 0})
    group = fields.Many2One('party.party', "Group", required=True,
        ondelete='RESTRICT', readonly=True)
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    contract_line = fields.Many2One('telecom.group.contract.line',
        "Contract Product", ondelete='RESTRICT', readonly=True,
        states={'invisible': _kind != 'product'})
    product = fields.Many2One('product.template', "Group Product",
        ondelete='RESTRICT', domain=[('telecom_type', '=', 'group')],
        states={
            'invisible': _kind != 'product',
            'required': _kind == 'product',
            'readonly': _closed | (Eval('id', -1) >= 0),
            })
    quantity = fields.Integer("Quantity",
        domain=['OR', ('quantity', '=', None), ('quantity', '>', 0)],
        states={
            'invisible': _kind != 'product',
            'required': _kind == 'product',
            'readonly': _closed,
            })
    monthly_fee = Monetary("Monthly Fee", currency='currency',
        digits='currency',
        domain=['OR', ('monthly_fee', '=', None), ('monthly_fee', '>=', 0)],
        states={
            'invisible': _kind != 'product',
            'required': _kind == 'product',
            'readonly': _closed,
            })
    subscriber = fields.Many2One('telecom.subscriber', "Line",
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'invisible': _kind != 'add_member',
            'required': _kind == 'add_member',
            'readonly': _closed,
            })
    paid_by_group = fields.Boolean("Paid by Group",
        states={
            'invisible': _kind != 'add_member',
            'readonly': _closed,
            })
    member = fields.Many2One('telecom.group.member', "Member",
        ondelete='RESTRICT',
        domain=[
            ('group', '=', Eval('group', -1)),
            If(Eval('state') == 'draft', ('state', '=', 'active'), ()),
            ],
        states={
            'invisible': ~_kind.in_(['remove_member', 'change_plan']),
            'required': _kind.in_(['remove_member', 'change_plan']),
            'readonly': _closed | Eval('telecom_order'),
            })
    plan = fields.Many2One('product.template', "New Plan",
        ondelete='RESTRICT', domain=[('telecom_type', '=', 'plan')],
        states={
            'invisible': _kind != 'change_plan',
            'required': _kind == 'change_plan',
            'readonly': _closed | Eval('telecom_order'),
            })
    telecom_order = fields.Many2One('telecom.order', "Service Order",
        ondelete='RESTRICT', readonly=True,
        states={'invisible': _kind != 'change_plan'})
    group_product = fields.Many2One('telecom.group.product',
        "Group Product Opened", ondelete='RESTRICT', readonly=True,
        states={'invisible': _kind != 'product'})
    group_member = fields.Many2One('telecom.group.member', "Member Added",
        ondelete='RESTRICT', readonly=True,
        states={'invisible': _kind != 'add_member'})
    reason = fields.Text("Reason", states={'readonly': _closed})
    state = fields.Selection(STATES, "State", required=True, readonly=True,
        sort=False)
    done_at = fields.DateTime("Done At", readonly=True)
    events = fields.One2Many('telecom.group.order.event', 'order', "Events",
        readonly=True)
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')
    kind_string = kind.translated('kind')
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Exclude(t, (t.code, Equal)),
                'crm_group_customer.msg_group_order_code_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.contract, Index.Range())),
                Index(t, (t.group, Index.Range())),
                Index(t, (t.telecom_order, Index.Range())),
                })
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'dispatched'),
            ('dispatched', 'done'),
            ('draft', 'withdrawn'),
            ('dispatched', 'withdrawn'),
            }
        cls._buttons.update({
                'dispatch': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'complete': {
                    'invisible': ((Eval('state') != 'dispatched')
                        | (_kind == 'change_plan')),
                    'icon': 'tryton-ok',
                    'depends': ['state', 'kind'],
                    },
                'withdraw': {
                    'invisible': _closed,
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_kind(cls):
        return 'add_member'

    @classmethod
    def default_paid_by_group(cls):
        return False

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return company_currency(self.company)

    @fields.depends('contract', '_parent_contract.group',
        '_parent_contract.company')
    def on_change_contract(self):
        if self.contract:
            self.group = self.contract.group
            self.company = self.contract.company

    @fields.depends('product', 'monthly_fee')
    def on_change_product(self):
        if self.product and self.monthly_fee is None:
            self.monthly_fee = self.product.monthly_fee

    def get_rec_name(self, name):
        return '%s %s' % (self.code or '', self.kind_string)

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Contract = pool.get('telecom.group.contract')
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            if not values.get('code'):
                values['code'] = pool.get('telecom.configuration')(
                    1).group_order_sequence.get()
            if values.get('contract') is not None:
                contract = Contract(values['contract'])
                values['group'] = contract.group.id
                values['company'] = contract.company.id
        return values

    @classmethod
    def on_modification(cls, mode, orders, field_names=None):
        super().on_modification(mode, orders, field_names=field_names)
        if mode == 'create':
            Event = Pool().get('telecom.group.order.event')
            Event.log(orders, 'created')

    @classmethod
    def check_modification(cls, mode, orders, values=None, external=False):
        super().check_modification(
            mode, orders, values=values, external=external)
        if mode == 'delete':
            for order in orders:
                if order.state != 'draft':
                    raise GroupError(gettext(
                            'crm_group_customer.msg_group_order_delete',
                            order=order.rec_name))
        elif mode == 'write' and values and set(values) & set(TRACKED):
            for order in orders:
                if order.state not in OPEN_STATES or (
                        order.telecom_order and set(values) & NETWORK_FIXED):
                    raise GroupError(gettext(
                            'crm_group_customer.msg_group_order_modify',
                            order=order.rec_name,
                            state=order.state_string))

    @classmethod
    def write(cls, *args):
        "Each change of what an order asks is an event of it"
        Event = Pool().get('telecom.group.order.event')
        events = []
        actions = iter(args)
        for orders, values in zip(actions, actions):
            names = [n for n in TRACKED if n in values]
            if names:
                for order in orders:
                    changes = order._describe_changes(names, values)
                    if changes:
                        events.append(Event.values(order, 'modified',
                                changes))
        super().write(*args)
        Event.record(events)

    def _describe_changes(self, names, values):
        "'field: old → new' for each value that differs"
        definitions = self.fields_get(names)
        lines = []
        for name in names:
            old, new = getattr(self, name), values[name]
            field = self._fields[name]
            if field._type == 'many2one':
                old_id = old.id if old else None
                if old_id == new:
                    continue
                Target = Pool().get(field.model_name)
                old = old.rec_name if old else ''
                new = Target(new).rec_name if new is not None else ''
            else:
                if old == new:
                    continue
            lines.append('%s: %s → %s' % (definitions[name]['string'],
                    self._text(old), self._text(new)))
        return '\n'.join(lines)

    @staticmethod
    def _text(value):
        if value is None:
            return ''
        if isinstance(value, Model):
            return value.rec_name
        return str(value)

    # --- workflow -----------------------------------------------------------

    @classmethod
    @ModelView.button
    def dispatch(cls, orders):
        """Send the orders out; a plan change goes to the network as a
        service order and is done when that order is"""
        TelecomOrder = Pool().get('telecom.order')
        cls._dispatch(orders)
        telecom_orders = [o.telecom_order for o in orders
            if o.state == 'dispatched' and o.telecom_order
            and o.telecom_order.state == 'draft']
        with without_check_access():
            TelecomOrder.submit(telecom_orders)

    @classmethod
    @Workflow.transition('dispatched')
    def _dispatch(cls, orders):
        pool = Pool()
        TelecomOrder = pool.get('telecom.order')
        Event = pool.get('telecom.group.order.event')
        for order in orders:
            if order.contract.state not in LIVE_STATES:
                raise GroupError(gettext(
                        'crm_group_customer.msg_group_order_contract_state',
                        order=order.rec_name,
                        contract=order.contract.rec_name,
                        state=order.contract.state_string))
            order._check_member()
        plan_changes = [o for o in orders
            if o.kind == 'change_plan' and not o.telecom_order]
        telecom_orders = [TelecomOrder(
                type='change_plan',
                company=o.company,
                customer=o.member.subscriber.customer,
                subscriber=o.member.subscriber,
                plan=o.plan,
                reason=o.reason or o.rec_name,
                ) for o in plan_changes]
        with without_check_access():
            TelecomOrder.save(telecom_orders)
        for order, telecom_order in zip(plan_changes, telecom_orders):
            order.telecom_order = telecom_order
        cls.save(plan_changes)
        Event.log(orders, 'dispatched')

    def _check_member(self):
        "The member changed is one of the contract's group, still in it"
        if self.kind in {'remove_member', 'change_plan'} and (
                self.member.group != self.group
                or self.member.state != 'active'):
            raise GroupError(gettext(
                    'crm_group_customer.msg_group_order_member',
                    order=self.rec_name, member=self.member.rec_name,
                    group=self.group.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def complete(cls, orders):
        """Carry the orders out on the group: its product opened, the line
        joined or left (a plan change is done with its service order)"""
        pool = Pool()
        Event = pool.get('telecom.group.order.event')
        for order in orders:
            if order.kind == 'change_plan' and (
                    not order.telecom_order
                    or order.telecom_order.state != 'done'):
                raise GroupError(gettext(
                        'crm_group_customer.msg_group_order_network',
                        order=order.rec_name))
            if order.kind in {'remove_member'}:
                order._check_member()
        with without_check_access():
            cls._open_products([o for o in orders if o.kind == 'product'])
            cls._add_members([o for o in orders if o.kind == 'add_member'])
            pool.get('telecom.group.member').leave(
                [o.member for o in orders if o.kind == 'remove_member'])
        cls.write(orders, {'done_at': dt.datetime.now()})
        Event.log(orders, 'done')

    @classmethod
    def _open_products(cls, orders):
        "The group products of the orders, opened at the contract's fee"
        pool = Pool()
        GroupProduct = pool.get('telecom.group.product')
        today = pool.get('ir.date').today()
        products = GroupProduct.create([{
                    'group': o.group.id,
                    'product': o.product.id,
                    'company': o.company.id,
                    'quantity': o.quantity,
                    'monthly_fee': o.monthly_fee,
                    'start_date': max(today, o.contract.start_date),
                    'end_date': o.contract.end_date,
                    } for o in orders])
        GroupProduct.activate(products)
        for order, product in zip(orders, products):
            order.group_product = product
        cls.save(orders)

    @classmethod
    def _add_members(cls, orders):
        pool = Pool()
        Member = pool.get('telecom.group.member')
        today = pool.get('ir.date').today()
        members = Member.create([{
                    'group': o.group.id,
                    'subscriber': o.subscriber.id,
                    'company': o.company.id,
                    'start_date': today,
                    'origin': 'order',
                    'paid_by_group': bool(o.paid_by_group),
                    } for o in orders])
        for order, member in zip(orders, members):
            order.group_member = member
        cls.save(orders)

    @classmethod
    @ModelView.button
    @Workflow.transition('withdrawn')
    def withdraw(cls, orders):
        "The order is called back; its service order with it"
        pool = Pool()
        TelecomOrder = pool.get('telecom.order')
        Event = pool.get('telecom.group.order.event')
        telecom_orders = [o.telecom_order for o in orders if o.telecom_order]
        for telecom_order in telecom_orders:
            if telecom_order.state not in {'draft', 'submitted', 'failed',
                    'cancelled'}:
                raise GroupError(gettext(
                        'crm_group_customer.msg_group_order_withdraw',
                        order=telecom_order.rec_name,
                        state=telecom_order.state_string))
        with without_check_access():
            TelecomOrder.cancel([o for o in telecom_orders
                    if o.state in {'draft', 'submitted'}])
        Event.log(orders, 'withdrawn')

    @classmethod
    def network_done(cls, telecom_orders):
        "The service orders are done: so are the plan changes they carry"
        orders = cls.search([
                ('telecom_order', 'in', [o.id for o in telecom_orders]),
                ('state', '=', 'dispatched'),
                ])
        with without_check_access():
            cls.complete(orders)

    @classmethod
    def network_failed(cls, telecom_orders):
        "The plan change stays dispatched, its failure an event"
        Event = Pool().get('telecom.group.order.event')
        orders = cls.search([
                ('telecom_order', 'in', [o.id for o in telecom_orders]),
                ('state', '=', 'dispatched'),
                ])
        Event.record([Event.values(o, 'failed',
                    o.telecom_order.failure_reason) for o in orders])


class GroupOrderEvent(ModelSQL, ModelView):
    "Group order event"
    __name__ = 'telecom.group.order.event'

    order = fields.Many2One('telecom.group.order', "Order", required=True,
        ondelete='CASCADE', readonly=True)
    date = fields.DateTime("Date", required=True, readonly=True)
    kind = fields.Selection([
            ('created', "Created"),
            ('modified', "Modified"),
            ('dispatched', "Dispatched"),
            ('failed', "Service Order Failed"),
            ('done', "Done"),
            ('withdrawn', "Withdrawn"),
            ], "Kind", required=True, readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True,
        ondelete='RESTRICT')
    employee = fields.Many2One('company.employee', "Employee", readonly=True,
        ondelete='RESTRICT')
    description = fields.Text("Description", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.order, Index.Range())))
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def values(cls, order, kind, description=None):
        return {
            'order': int(order),
            'kind': kind,
            'date': dt.datetime.now(),
            'user': Transaction().user or None,
            'employee': user_employee(),
            'description': description,
            }

    @classmethod
    def record(cls, vlist):
        "The history is the order's: whoever takes a step writes it"
        if not vlist:
            return []
        with without_check_access():
            return cls.create(vlist)

    @classmethod
    def log(cls, orders, kind, description=None):
        return cls.record([cls.values(o, kind, description) for o in orders])


class TelecomOrder(metaclass=PoolMeta):
    __name__ = 'telecom.order'

    @classmethod
    def complete(cls, orders):
        super().complete(orders)
        Pool().get('telecom.group.order').network_done(
            [o for o in orders if o.type == 'change_plan'
                and o.state == 'done'])

    @classmethod
    def fail(cls, orders, reason=None):
        super().fail(orders, reason=reason)
        Pool().get('telecom.group.order').network_failed(
            [o for o in orders if o.type == 'change_plan'])
