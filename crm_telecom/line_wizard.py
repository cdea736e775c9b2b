"""Guided wizards for the frequent orders on a line, started from the line.

Each wizard shows the line as the customer knows it, asks only what its
order type needs and ends by creating that service order, submitting it
through the order's own button with the staff member's rights and opening
it, so the clerk sees where it stands. The order keeps every rule: the
wizards only check some of them earlier, with the same code."""
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import check_access
from trytond.wizard import (
    Button,
    StateAction,
    StateTransition,
    StateView,
    Wizard,
)

from . import identity
from .exceptions import OrderError
from .order import REQUIRED_LINE_STATES


def line_buttons():
    "取消 and 确认: the order is created, submitted and opened"
    return [
        Button("Cancel", 'end', 'tryton-cancel'),
        Button("Confirm", 'confirm', 'tryton-ok', default=True),
        ]


def live_services(line):
    return [s for s in line.services if s.state != 'removed']


# the order types with a wizard; one wizard (and action) each, so that
# the roles allowed are those of the action, whatever the client sends
LINE_WIZARDS = [
    'change_plan', 'add_service', 'remove_service', 'transfer', 'terminate']


class Subscriber(metaclass=PoolMeta):
    __name__ = 'telecom.subscriber'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'wizard_%s' % type_: {
                    'invisible': ~Eval('state').in_(
                        REQUIRED_LINE_STATES[type_]),
                    'depends': ['state'],
                    } for type_ in LINE_WIZARDS})

    @classmethod
    @ModelView.button_action('crm_telecom.wizard_line_change_plan')
    def wizard_change_plan(cls, subscribers):
        pass

    @classmethod
    @ModelView.button_action('crm_telecom.wizard_line_add_service')
    def wizard_add_service(cls, subscribers):
        pass

    @classmethod
    @ModelView.button_action('crm_telecom.wizard_line_remove_service')
    def wizard_remove_service(cls, subscribers):
        pass

    @classmethod
    @ModelView.button_action('crm_telecom.wizard_line_transfer')
    def wizard_transfer(cls, subscribers):
        pass

    @classmethod
    @ModelView.button_action('crm_telecom.wizard_line_terminate')
    def wizard_terminate(cls, subscribers):
        pass


class LineStartMixin:
    "The line and its customer, at the top of every wizard"
    __slots__ = ()
    subscriber = fields.Many2One('telecom.subscriber', "Line", readonly=True)
    customer = fields.Many2One('party.party', "Customer", readonly=True)
    currency = fields.Many2One('currency.currency', "Currency",
        readonly=True)


class LineOrderWizard(Wizard):
    """Common start and end of the line wizards: subclasses set order_type,
    a StateView start and order_values()"""
    order_type = None
    confirm = StateAction('crm_telecom.act_order_form')

    @property
    def line(self):
        """The line the wizard runs on, checked as its order will be:
        the line's state and no other order in progress"""
        Order = Pool().get('telecom.order')
        if (not self.model or self.model.__name__ != 'telecom.subscriber'
                or len(self.records) != 1):
            raise OrderError(gettext('crm_telecom.msg_line_wizard_one'))
        line = self.record
        order = Order(type=self.order_type, subscriber=line,
            customer=line.customer, company=line.company)
        order._check_line_state()
        Order._check_one_open_order([order])
        return line

    def default_start(self, fields):
        line = self.line
        values = {
            'subscriber': line.id,
            'customer': line.customer.id,
            'currency': line.plan.telecom_currency.id,
            }
        values.update(self.start_values(line))
        return values

    def start_values(self, line):
        "The values the start view shows of line"
        return {}

    def order_values(self, line):
        "The values of the order, checked against what the wizard offered"
        raise NotImplementedError

    def do_confirm(self, action):
        Order = Pool().get('telecom.order')
        line = self.line
        values = {
            'type': self.order_type,
            'company': line.company.id,
            'customer': line.customer.id,
            'subscriber': line.id,
            **self.order_values(line),
            }
        # as if the staff member filled the order by hand: their rights on
        # orders and on its submit button apply
        with check_access():
            order, = Order.create([values])
            Order.submit([order])
        action['res_id'] = [order.id]
        action['views'].reverse()
        action['domains'] = []
        return action, {}

    def transition_confirm(self):
        return 'end'


class ChangePlanStart(LineStartMixin, ModelView):
    "Plan change"
    __name__ = 'telecom.line.change_plan.start'

    current_plan = fields.Many2One('product.template', "Current Plan",
        readonly=True)
    current_fee = Monetary("Current Monthly Fee", currency='currency',
        digits='currency', readonly=True)
    plans = fields.Many2Many('product.template', None, None,
        "Plans Offered", readonly=True,
        help="The plans of the line's brand the customer may take.")
    plan = fields.Many2One('product.template', "New Plan", required=True,
        domain=[('id', 'in', Eval('plans', []))])
    new_fee = fields.Function(Monetary("New Monthly Fee",
            currency='currency', digits='currency'),
        'on_change_with_new_fee')
    fee_difference = fields.Function(Monetary("Monthly Difference",
            currency='currency', digits='currency'),
        'on_change_with_fee_difference')
    effective = fields.Char("Takes Effect", readonly=True)
    reason = fields.Text("Reason")

    @fields.depends('plan')
    def on_change_with_new_fee(self, name=None):
        if self.plan:
            return self.plan.monthly_fee

    @fields.depends('plan', 'current_fee')
    def on_change_with_fee_difference(self, name=None):
        if self.plan and self.plan.monthly_fee is not None:
            return self.plan.monthly_fee - (self.current_fee or 0)


class ChangePlan(LineOrderWizard):
    "Change the plan of a line"
    __name__ = 'telecom.line.change_plan'
    order_type = 'change_plan'

    start = StateView('telecom.line.change_plan.start',
        'crm_telecom.line_change_plan_start_view_form', line_buttons())

    @classmethod
    def plans(cls, line):
        "The plans the line may change to"
        Template = Pool().get('product.template')
        return Template.offered(['plan'], line.brand,
            line.customer.identity_age, domain=[('id', '!=', line.plan.id)])

    def start_values(self, line):
        # the order applies the rule of the plan the line leaves
        if line.plan.plan_change_effective == 'immediate':
            effective = gettext('crm_telecom.msg_line_plan_immediate')
        else:
            date = line.account.next_cycle_start(
                Pool().get('ir.date').today())
            effective = gettext('crm_telecom.msg_line_plan_next_cycle',
                date=date.isoformat())
        return {
            'current_plan': line.plan.id,
            'current_fee': line.plan.monthly_fee,
            'plans': [p.id for p in self.plans(line)],
            'effective': effective,
            }

    def order_values(self, line):
        plan = self.start.plan
        # with the age the customer's ID gives, whoever asks
        plan.check_eligibility(brand=line.brand,
            age=line.customer.identity_age)
        return {'plan': plan.id, 'reason': self.start.reason}


class ServiceStartMixin(LineStartMixin):
    "The services on the line, with their fees"
    __slots__ = ()
    services = fields.Many2Many('product.template', None, None,
        "Current Services", readonly=True)
    fee = fields.Function(Monetary("Monthly Fee", currency='currency',
            digits='currency'),
        'on_change_with_fee')
    reason = fields.Text("Reason")


class AddServiceStart(ServiceStartMixin, ModelView):
    "Add a service"
    __name__ = 'telecom.line.add_service.start'

    offered = fields.Many2Many('product.template', None, None,
        "Services Offered", readonly=True,
        help="The add-ons and value-added services the line does not have.")
    service = fields.Many2One('product.template', "Service to Add",
        required=True, domain=[('id', 'in', Eval('offered', []))])

    @fields.depends('service')
    def on_change_with_fee(self, name=None):
        if self.service:
            return self.service.monthly_fee


class AddService(LineOrderWizard):
    "Add a service to a line"
    __name__ = 'telecom.line.add_service'
    order_type = 'add_service'

    start = StateView('telecom.line.add_service.start',
        'crm_telecom.line_add_service_start_view_form', line_buttons())

    def start_values(self, line):
        Template = Pool().get('product.template')
        current = [s.product for s in live_services(line)]
        offered = Template.offered(['addon', 'vas'], line.brand,
            domain=[('id', 'not in', [p.id for p in current])],
            order=[('telecom_type', 'ASC'), ('name', 'ASC')])
        return {
            'services': [p.id for p in current],
            'offered': [p.id for p in offered],
            }

    def order_values(self, line):
        return {'service': self.start.service.id,
            'reason': self.start.reason}


class RemoveServiceStart(ServiceStartMixin, ModelView):
    "Remove a service"
    __name__ = 'telecom.line.remove_service.start'

    line_services = fields.Many2Many('telecom.subscriber.service', None,
        None, "Line Services", readonly=True)
    service = fields.Many2One('telecom.subscriber.service',
        "Service to Remove", required=True,
        domain=[('id', 'in', Eval('line_services', []))])

    @fields.depends('service')
    def on_change_with_fee(self, name=None):
        if self.service:
            return self.service.product.monthly_fee


class RemoveService(LineOrderWizard):
    "Remove a service from a line"
    __name__ = 'telecom.line.remove_service'
    order_type = 'remove_service'

    start = StateView('telecom.line.remove_service.start',
        'crm_telecom.line_remove_service_start_view_form', line_buttons())

    def start_values(self, line):
        services = live_services(line)
        return {
            'services': [s.product.id for s in services],
            'line_services': [s.id for s in services],
            }

    def order_values(self, line):
        return {'subscriber_service': self.start.service.id,
            'reason': self.start.reason}


class TransferStart(LineStartMixin, ModelView):
    "Ownership transfer: the new owner"
    __name__ = 'telecom.line.transfer.start'

    identity_code = fields.Char("Resident ID of the New Owner",
        help="Type the full number: the customer holding it is found.")
    new_owner = fields.Many2One('party.party', "New Owner",
        domain=[
            ('id', '!=', Eval('customer', -1)),
            ('company', 'in', [Eval('company', -1), None]),
            ])
    company = fields.Many2One('company.company', "Company", readonly=True)

    @fields.depends('identity_code', 'company', 'new_owner')
    def on_change_identity_code(self):
        if self.identity_code:
            self.new_owner = self.find_owner()

    @fields.depends('identity_code', 'company')
    def find_owner(self):
        "The customer holding the resident ID typed, which must be valid"
        Party = Pool().get('party.party')
        code = identity.check(self.identity_code)
        parties = Party.search([
                ('identity_code', '=', code),
                ('company', 'in', [
                        self.company.id if self.company else None, None]),
                ], order=[('id', 'ASC')], limit=1)
        if not parties:
            raise OrderError(gettext(
                    'crm_telecom.msg_line_transfer_owner_unknown',
                    code=code))
        return parties[0]


class TransferAccount(ModelView):
    "Ownership transfer: the new owner's billing account"
    __name__ = 'telecom.line.transfer.account'

    new_owner = fields.Many2One('party.party', "New Owner", readonly=True)
    company = fields.Many2One('company.company', "Company", readonly=True)
    new_account = fields.Boolean("Open a New Account",
        help="Open a prepaid account for the new owner.")
    account = fields.Many2One('telecom.account', "Billing Account",
        domain=[
            ('payer', '=', Eval('new_owner', -1)),
            ('company', '=', Eval('company', -1)),
            ('state', '=', 'active'),
            ],
        states={
            'invisible': Bool(Eval('new_account')),
            'required': ~Eval('new_account'),
            },
        help="Only the new owner's own accounts.")
    reason = fields.Text("Reason")


class Transfer(LineOrderWizard):
    "Transfer a line to a new owner"
    __name__ = 'telecom.line.transfer'
    order_type = 'transfer'

    start = StateView('telecom.line.transfer.start',
        'crm_telecom.line_transfer_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Next", 'check', 'tryton-forward', default=True),
            ])
    check = StateTransition()
    account = StateView('telecom.line.transfer.account',
        'crm_telecom.line_transfer_account_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Back", 'start', 'tryton-back'),
            Button("Confirm", 'confirm', 'tryton-ok', default=True),
            ])

    def start_values(self, line):
        values = {'company': line.company.id}
        # back from the account step: the owner found stays
        if self.start.new_owner:
            values['new_owner'] = self.start.new_owner.id
            values['identity_code'] = self.start.identity_code
        return values

    def transition_check(self):
        "The real-name rules the order applies to the new owner, first"
        Order = Pool().get('telecom.order')
        line = self.line
        if self.start.identity_code:
            self.start.new_owner = self.start.find_owner()
        if not self.start.new_owner:
            raise OrderError(gettext(
                    'crm_telecom.msg_line_transfer_owner_required'))
        Order(type='transfer', subscriber=line, customer=line.customer,
            company=line.company, new_owner=self.start.new_owner,
            )._check_transfer()
        return 'account'

    def default_account(self, fields):
        Account = Pool().get('telecom.account')
        owner = self.start.new_owner
        line = self.line
        account = Account.proposed(owner, line.company)
        return {
            'new_owner': owner.id,
            'company': line.company.id,
            'account': account.id if account else None,
            'new_account': not account,
            }

    def order_values(self, line):
        Account = Pool().get('telecom.account')
        owner = self.start.new_owner
        if self.account.new_account:
            with check_access():
                account, = Account.create([{
                            'payer': owner.id,
                            'company': line.company.id,
                            }])
        else:
            account = self.account.account
            if not account:
                raise OrderError(gettext(
                        'crm_telecom.msg_line_transfer_account_required',
                        owner=owner.rec_name))
            if account.payer != owner:
                raise OrderError(gettext(
                        'crm_telecom.msg_line_transfer_account_payer',
                        account=account.rec_name,
                        payer=account.payer.rec_name,
                        owner=owner.rec_name))
        return {'new_owner': owner.id, 'account': account.id,
            'reason': self.account.reason}


class TerminateStart(LineStartMixin, ModelView):
    "Termination"
    __name__ = 'telecom.line.terminate.start'

    services = fields.Many2Many('product.template', None, None,
        "Services", readonly=True)
    account = fields.Many2One('telecom.account', "Billing Account",
        readonly=True)
    balance = Monetary("Balance", currency='currency', digits='currency',
        readonly=True)
    cooling = fields.Char("Number After Termination", readonly=True)
    reason = fields.Text("Reason", required=True)


class Terminate(LineOrderWizard):
    "Terminate a line"
    __name__ = 'telecom.line.terminate'
    order_type = 'terminate'

    start = StateView('telecom.line.terminate.start',
        'crm_telecom.line_terminate_start_view_form', line_buttons())

    def start_values(self, line):
        Configuration = Pool().get('telecom.configuration')
        return {
            'services': [s.product.id for s in live_services(line)],
            'account': line.account.id,
            'currency': line.account.currency.id,
            'balance': line.account.balance,
            'cooling': gettext('crm_telecom.msg_line_terminate_cooling',
                number=line.number.number,
                days=Configuration(1).cooling_days),
            }

    def order_values(self, line):
        return {'reason': self.start.reason}
