"""Group contracts (集团合同): the group products and plans a group takes,
for a period, signed and approved by a group-customer director, then
carried out through group orders. An active contract nearing its end is
expiring: its account manager is told and a renewal opportunity opened;
past its end it has ended."""
import datetime as dt
from collections import defaultdict

from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import (
    Exclude,
    Index,
    ModelSQL,
    ModelView,
    Workflow,
    fields,
)
from trytond.modules.company.model import employee_field, set_employee
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction, without_check_access

from crm_telecom.company import company_currency, default_company
from crm_telecom.party import grouped_ids

from .exceptions import GroupError, GroupValidationError
from .opportunity import user_employee

STATES = [
    ('draft', "Draft"),
    ('approval', "Waiting for Approval"),
    ('active', "Active"),
    ('expiring', "Expiring"),
    ('ended', "Ended"),
    ]
LIVE_STATES = ['active', 'expiring']
_draft = Eval('state') != 'draft'
_all_states = [s for s, _ in STATES]


class Contract(Workflow, ModelSQL, ModelView):
    "Group contract"
    __name__ = 'telecom.group.contract'
    _rec_name = 'code'

    code = fields.Char("Code", readonly=True)
    group = fields.Many2One('party.party', "Group", required=True,
        ondelete='RESTRICT', domain=[('group_customer', '=', True)],
        states={'readonly': _draft | Bool(Eval('opportunity'))})
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', states={'readonly': _draft})
    opportunity = fields.Many2One('sale.opportunity', "Opportunity",
        ondelete='RESTRICT', readonly=True,
        help="The approved opportunity the contract was drafted from.")
    account_manager = fields.Many2One('company.employee', "Account Manager",
        ondelete='RESTRICT', domain=[('company', '=', Eval('company', -1))],
        states={'readonly': Eval('state') == 'ended'})
    lines = fields.One2Many('telecom.group.contract.line', 'contract',
        "Products", states={'readonly': _draft})
    start_date = fields.Date("Start Date", required=True,
        states={'readonly': _draft})
    end_date = fields.Date("End Date", required=True,
        domain=[If(Bool(Eval('start_date')),
                ('end_date', '>', Eval('start_date', None)), ())],
        states={'readonly': ~Eval('state').in_(['draft', 'approval'])})
    document = fields.Binary("Signed Contract", filename='document_name',
        states={'readonly': ~Eval('state').in_(['draft', 'approval'])},
        help="The scan of the contract signed by both parties: required "
        "to activate it.")
    document_name = fields.Char("File Name",
        states={'readonly': ~Eval('state').in_(['draft', 'approval'])})
    monthly_amount = fields.Function(Monetary("Monthly Amount",
            currency='currency', digits='currency'),
        'get_monthly_amount')
    comment = fields.Text("Comment")
    state = fields.Selection(STATES, "State", required=True, readonly=True,
        sort=False)
    submitted_by = employee_field("Submitted By", states=_all_states)
    submitted_at = fields.DateTime("Submitted At", readonly=True)
    approved_by = employee_field("Approved By", states=_all_states)
    approved_at = fields.DateTime("Approved At", readonly=True)
    rejected_by = employee_field("Rejected By", states=_all_states)
    rejected_at = fields.DateTime("Rejected At", readonly=True)
    expiring_at = fields.DateTime("Expiring Since", readonly=True)
    ended_at = fields.DateTime("Ended At", readonly=True)
    renewals = fields.One2Many('sale.opportunity', 'renewal_of',
        "Renewal Opportunities", readonly=True)
    orders = fields.One2Many('telecom.group.order', 'contract', "Orders",
        states={'readonly': ~Eval('state').in_(LIVE_STATES)})
    orders_done = fields.Function(fields.Integer("Orders Done"),
        'get_order_counts')
    orders_pending = fields.Function(fields.Integer("Orders Pending"),
        'get_order_counts')
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Exclude(t, (t.code, Equal)),
                'crm_group_customer.msg_contract_code_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.group, Index.Range())),
                Index(t, (t.end_date, Index.Range()),
                    where=t.state.in_(LIVE_STATES)),
                })
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'approval'),
            ('approval', 'active'),
            ('approval', 'draft'),
            ('active', 'expiring'),
            ('active', 'ended'),
            ('expiring', 'ended'),
            }
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'approval',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'approval',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'end': {
                    'invisible': ~Eval('state').in_(LIVE_STATES),
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
    def default_start_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_account_manager(cls):
        return user_employee()

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return company_currency(self.company)

    @fields.depends('group', 'account_manager')
    def on_change_group(self):
        if self.group and self.group.account_manager:
            self.account_manager = self.group.account_manager

    def get_rec_name(self, name):
        return '%s %s' % (self.code or '', self.group.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('code',) + tuple(clause[1:]),
            ('group.rec_name',) + tuple(clause[1:]),
            ]

    def get_monthly_amount(self, name):
        return sum((l.amount or 0 for l in self.lines), 0)

    @classmethod
    def get_order_counts(cls, contracts, names):
        Order = Pool().get('telecom.group.order')
        result = {n: dict.fromkeys((c.id for c in contracts), 0)
            for n in names}
        for sub_ids in grouped_ids(contracts):
            for row in Order.search_read([
                        ('contract', 'in', sub_ids),
                        ('state', 'in', ['draft', 'dispatched', 'done']),
                        ], fields_names=['contract', 'state']):
                name = ('orders_done' if row['state'] == 'done'
                    else 'orders_pending')
                if name in result:
                    result[name][row['contract']] += 1
        return result

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('code'):
            values['code'] = Pool().get('telecom.configuration')(
                1).group_contract_sequence.get()
        return values

    @classmethod
    def validate_fields(cls, contracts, field_names):
        super().validate_fields(contracts, field_names)
        if field_names is None or field_names & {
                'group', 'company', 'opportunity'}:
            for contract in contracts:
                if (contract.group.company
                        and contract.group.company != contract.company):
                    raise GroupValidationError(gettext(
                            'crm_group_customer.msg_contract_other_company',
                            contract=contract.rec_name,
                            group=contract.group.rec_name))
                if (contract.opportunity
                        and contract.opportunity.party != contract.group):
                    raise GroupValidationError(gettext(
                            'crm_group_customer'
                            '.msg_contract_opportunity_group',
                            contract=contract.rec_name,
                            opportunity=contract.opportunity.rec_name))

    @classmethod
    def check_modification(cls, mode, contracts, values=None,
            external=False):
        super().check_modification(
            mode, contracts, values=values, external=external)
        if mode == 'delete':
            for contract in contracts:
                if contract.state != 'draft':
                    raise GroupError(gettext(
                            'crm_group_customer.msg_contract_delete',
                            contract=contract.rec_name))

    @classmethod
    def copy(cls, contracts, default=None):
        default = default.copy() if default is not None else {}
        for name in ['code', 'opportunity', 'document', 'document_name',
                'submitted_by', 'submitted_at', 'approved_by', 'approved_at',
                'rejected_by', 'rejected_at', 'expiring_at', 'ended_at',
                'renewals', 'orders']:
            default.setdefault(name, None)
        return super().copy(contracts, default=default)

    # --- workflow -----------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('approval')
    @set_employee('submitted_by')
    def submit(cls, contracts):
        for contract in contracts:
            if not contract.lines:
                raise GroupError(gettext(
                        'crm_group_customer.msg_contract_no_lines',
                        contract=contract.rec_name))
        cls.write(contracts, {
                'submitted_at': dt.datetime.now(),
                'rejected_by': None,
                'rejected_at': None,
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    @set_employee('rejected_by')
    def reject(cls, contracts):
        cls.write(contracts, {'rejected_at': dt.datetime.now()})

    @classmethod
    @ModelView.button
    def approve(cls, contracts):
        """The director's approval activates the signed contract and
        dispatches its group products"""
        cls._approve(contracts)
        cls.activate([c for c in contracts if c.state == 'active'])

    @classmethod
    @Workflow.transition('active')
    @set_employee('approved_by')
    def _approve(cls, contracts):
        for contract in contracts:
            if not contract.document:
                raise GroupError(gettext(
                        'crm_group_customer.msg_contract_no_document',
                        contract=contract.rec_name))
        cls.write(contracts, {'approved_at': dt.datetime.now()})

    @classmethod
    def activate(cls, contracts):
        """What an active contract starts: an order per group product and
        the opportunity won"""
        pool = Pool()
        Order = pool.get('telecom.group.order')
        Opportunity = pool.get('sale.opportunity')
        orders = Order.create([o for c in contracts
                for o in c._product_orders()])
        Order.dispatch(orders)
        opportunities = [c.opportunity for c in contracts
            if c.opportunity and c.opportunity.state == 'converted']
        if opportunities:
            with without_check_access():
                Opportunity.won(opportunities)

    def _product_orders(self):
        "The values of the orders of the contract's group products"
        return [{
                'contract': self.id,
                'kind': 'product',
                'contract_line': line.id,
                'product': line.product.id,
                'quantity': line.quantity,
                'monthly_fee': line.monthly_fee,
                } for line in self.lines
            if line.product.telecom_type == 'group']

    @classmethod
    @Workflow.transition('expiring')
    def expire(cls, contracts):
        cls.write(contracts, {'expiring_at': dt.datetime.now()})

    @classmethod
    @ModelView.button
    @Workflow.transition('ended')
    def end(cls, contracts):
        cls.write(contracts, {'ended_at': dt.datetime.now()})

    # --- crons --------------------------------------------------------------

    @classmethod
    def remind_expiring(cls, date=None):
        """Active contracts ending within the reminder days are expiring:
        their account managers are told, and each gets one renewal
        opportunity. Returns the contracts moved."""
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        days = Configuration(1).contract_reminder_days
        contracts = cls.search([
                ('state', '=', 'active'),
                ('end_date', '<=', date + dt.timedelta(days=days)),
                ], order=[('id', 'ASC')])
        if not contracts:
            return []
        cls.expire(contracts)
        cls._open_renewals(contracts)
        cls._notify_expiring(contracts)
        return contracts

    @classmethod
    def _open_renewals(cls, contracts):
        "One renewal opportunity per contract, not twice"
        pool = Pool()
        Opportunity = pool.get('sale.opportunity')
        renewed = {o.renewal_of.id for o in Opportunity.search([
                    ('renewal_of', 'in', [c.id for c in contracts]),
                    ])}
        opportunities = []
        for contract in contracts:
            if contract.id in renewed:
                continue
            opportunities.append(Opportunity(
                    party=contract.group,
                    company=contract.company,
                    currency=contract.company.currency,
                    employee=(contract.account_manager
                        or contract.group.account_manager),
                    state='lead',
                    renewal_of=contract,
                    expected_monthly_revenue=contract.monthly_amount,
                    description=gettext(
                        'crm_group_customer.msg_contract_renewal',
                        contract=contract.code),
                    ))
        with without_check_access():
            Opportunity.save(opportunities)
        return opportunities

    @classmethod
    def _notify_expiring(cls, contracts):
        """One notification per user of the account managers, in one
        batch, opening the expiring contracts"""
        pool = Pool()
        User = pool.get('res.user')
        Notification = pool.get('res.notification')
        ModelData = pool.get('ir.model.data')
        ActWindow = pool.get('ir.action.act_window')
        by_manager = defaultdict(list)
        for contract in contracts:
            manager = contract.account_manager or contract.group.account_manager
            if manager:
                by_manager[manager.id].append(contract)
        if not by_manager:
            return []
        users = User.search([('employees', 'in', list(by_manager))])
        action = ActWindow(ModelData.get_id(
                'crm_group_customer', 'act_contract_form')).action
        vlist = []
        for user in users:
            with Transaction().set_context(
                    language=user.language.code if user.language else None):
                for employee in user.employees:
                    for contract in by_manager.get(employee.id, []):
                        vlist.append({
                                'user': user.id,
                                'label': gettext(
                                    'crm_group_customer'
                                    '.msg_notify_contract_expiring_label'),
                                'description': gettext(
                                    'crm_group_customer'
                                    '.msg_notify_contract_expiring',
                                    contract=contract.rec_name,
                                    date=contract.end_date.isoformat()),
                                'icon': 'tryton-notification',
                                'action': action.id,
                                'model': cls.__name__,
                                'records': str([contract.id]),
                                'unread': True,
                                })
        with without_check_access():
            return Notification.create(vlist)

    @classmethod
    def end_due(cls, date=None):
        "Active and expiring contracts past their end have ended"
        if date is None:
            date = Pool().get('ir.date').today()
        contracts = cls.search([
                ('state', 'in', LIVE_STATES),
                ('end_date', '<', date),
                ])
        cls.end(contracts)
        return contracts


class ContractLine(ModelSQL, ModelView):
    "A group product or plan of a contract, its quantity and fee"
    __name__ = 'telecom.group.contract.line'

    contract = fields.Many2One('telecom.group.contract', "Contract",
        required=True, ondelete='CASCADE')
    product = fields.Many2One('product.template', "Product", required=True,
        ondelete='RESTRICT',
        domain=[('telecom_type', 'in', ['group', 'plan'])])
    quantity = fields.Integer("Quantity", required=True,
        domain=[('quantity', '>', 0)],
        help="Units of a group product; lines on a plan.")
    monthly_fee = Monetary("Monthly Fee", currency='currency',
        digits='currency', required=True,
        domain=[('monthly_fee', '>=', 0)],
        help="The fee per unit and month agreed in the contract.")
    amount = fields.Function(Monetary("Monthly Amount",
            currency='currency', digits='currency'),
        'on_change_with_amount')
    description = fields.Char("Description")
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('contract')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.contract, Index.Range())))

    @classmethod
    def default_quantity(cls):
        return 1

    @fields.depends('contract', '_parent_contract.company')
    def on_change_with_currency(self, name=None):
        if self.contract:
            return company_currency(self.contract.company)

    @fields.depends('quantity', 'monthly_fee')
    def on_change_with_amount(self, name=None):
        if self.quantity is not None and self.monthly_fee is not None:
            return self.monthly_fee * self.quantity

    @fields.depends('product', 'monthly_fee')
    def on_change_product(self):
        if self.product and self.monthly_fee is None:
            self.monthly_fee = self.product.monthly_fee

    def get_rec_name(self, name):
        return '%s × %s' % (self.product.rec_name, self.quantity)

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        for line in lines:
            if line.contract.state != 'draft':
                raise GroupError(gettext(
                        'crm_group_customer.msg_contract_line_modify',
                        contract=line.contract.rec_name))


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    group_contracts = fields.One2Many('telecom.group.contract', 'group',
        "Contracts", readonly=True,
        states={'invisible': ~Eval('group_customer')})
    group_orders = fields.One2Many('telecom.group.order', 'group',
        "Group Orders", readonly=True,
        states={'invisible': ~Eval('group_customer')})

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('group_contracts', None)
        default.setdefault('group_orders', None)
        return super().copy(parties, default=default)
