"""The business-hall activation wizard (受理): from a customer, or a resident
ID typed once, to a submitted activation order.

Every step writes through the service order: the draft activation is
created when the number is chosen (which reserves it, as any draft order
does), completed step by step, and submitted with Order.submit; cancelling
the wizard cancels the draft, which gives the number back to the pool."""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, PYSONEncoder
from trytond.report import Report
from trytond.transaction import Transaction
from trytond.wizard import (
    Button,
    StateAction,
    StateTransition,
    StateView,
    Wizard,
)

from . import iccid, identity
from .company import company_currency, default_company
from .exceptions import NumberError
from .money import CENT, format_money, month_proration, prorate

# numbers shown for one search: the clerk narrows the pattern for more
NUMBER_LIMIT = 50


def find_customer(code):
    "The customer holding the resident ID, if any"
    Party = Pool().get('party.party')
    parties = Party.search([('identity_code', '=', code)], limit=1)
    return parties[0] if parties else None


def activation_fees(order, date):
    """What an activation costs: the premium number fee once, the monthly
    fees of the plan and its services, and their share for the days left
    in the month from date (the first month, as the bill will prorate it)"""
    zero = Decimal(0)
    number = order.number
    premium = (number.price or zero
        if number and number.grade == 'premium' else zero)
    plan_fee = (order.plan.monthly_fee or zero) if order.plan else zero
    services_fee = sum((s.monthly_fee or zero for s in order.services),
        zero)
    days_left, days = month_proration(date)
    prorated = prorate(plan_fee + services_fee, days_left, days).quantize(
        CENT)
    return {
        'premium_fee': premium.quantize(CENT),
        'plan_fee': plan_fee.quantize(CENT),
        'services_fee': services_fee.quantize(CENT),
        'days_left': days_left,
        'days_in_month': days,
        'prorated_fee': prorated,
        'total': (premium + prorated).quantize(CENT),
        }


class OrderEntryIdentify(ModelView):
    "Activation: the customer"
    __name__ = 'telecom.order.entry.identify'

    identity_code = fields.Char("Resident ID", required=True,
        states={'readonly': Bool(Eval('from_customer'))},
        help="Type or read the 18 characters once: an existing customer "
        "is found, otherwise a new one is registered.")
    from_customer = fields.Boolean("From Customer", readonly=True)
    customer = fields.Many2One('party.party', "Customer", readonly=True)
    name = fields.Char("Name",
        states={
            'readonly': Bool(Eval('customer')),
            'required': ~Eval('customer'),
            })
    phone = fields.Char("Mobile Phone",
        states={'readonly': Bool(Eval('customer'))})
    street = fields.Char("Address",
        states={'readonly': Bool(Eval('customer'))})
    city = fields.Char("City", states={'readonly': Bool(Eval('customer'))})

    @fields.depends('identity_code', 'customer', 'name', 'phone', 'street',
        'city')
    def on_change_identity_code(self):
        if not self.identity_code:
            self.customer = None
            return
        code = identity.check(self.identity_code)
        self.identity_code = code
        self.customer = find_customer(code)
        if self.customer:
            self.name = self.customer.name
            self.phone = self.customer.mobile or self.customer.phone
            address = self.customer.address_get()
            self.street = address.street_single_line if address else None
            self.city = address.city if address else None


class OrderEntryNumber(ModelView):
    "Activation: the number"
    __name__ = 'telecom.order.entry.number'

    company = fields.Many2One('company.company', "Company", readonly=True)
    customer = fields.Many2One('party.party', "Customer", readonly=True)
    order = fields.Many2One('telecom.order', "Order", readonly=True)
    pattern = fields.Char("Digits",
        help="The digits the customer wants, e.g. 8888.")
    match = fields.Selection([
            ('tail', "Ends With"),
            ('prefix', "Starts With"),
            ('contains', "Contains"),
            ], "Match", required=True)
    grade = fields.Selection([
            (None, ""),
            ('ordinary', "Ordinary"),
            ('premium', "Premium"),
            ], "Grade")
    numbers = fields.Many2Many('telecom.number', None, None,
        "Available Numbers", readonly=True)
    number = fields.Many2One('telecom.number', "Number", required=True,
        domain=[
            ('company', '=', Eval('company', -1)),
            ['OR',
                ('state', '=', 'available'),
                ('reserved_order', '=', Eval('order', -1)),
                ],
            ],
        help="Reserved for the customer as soon as you go on.")
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')
    price = fields.Function(Monetary("Premium Number Fee",
            currency='currency', digits='currency'),
        'on_change_with_price')

    @classmethod
    def default_match(cls):
        return 'tail'

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return company_currency(self.company)

    @fields.depends('number')
    def on_change_with_price(self, name=None):
        if self.number and self.number.grade == 'premium':
            return self.number.price

    def number_domain(self):
        "Available numbers of the company matching the pattern and grade"
        domain = [
            ('company', '=', self.company.id if self.company else -1),
            ('state', '=', 'available'),
            ]
        pattern = (self.pattern or '').strip()
        if pattern:
            if not pattern.isdigit():
                raise NumberError(gettext(
                        'crm_telecom.msg_entry_pattern_invalid',
                        pattern=pattern))
            like = {
                'tail': '%' + pattern,
                'prefix': pattern + '%',
                'contains': '%' + pattern + '%',
                }[self.match or 'tail']
            domain.append(('number', 'like', like))
        if self.grade:
            domain.append(('grade', '=', self.grade))
        return domain

    @fields.depends('pattern', 'match', 'grade', 'company', 'number',
        'numbers', methods=['number_domain'])
    def on_change_pattern(self):
        Number = Pool().get('telecom.number')
        self.numbers = Number.search(self.number_domain(),
            limit=NUMBER_LIMIT)
        if len(self.numbers) == 1 and not self.number:
            self.number, = self.numbers

    @fields.depends(methods=['on_change_pattern'])
    def on_change_match(self):
        self.on_change_pattern()

    @fields.depends(methods=['on_change_pattern'])
    def on_change_grade(self):
        self.on_change_pattern()


class OrderEntryPlan(ModelView):
    "Activation: the plan and services"
    __name__ = 'telecom.order.entry.plan'

    customer = fields.Many2One('party.party', "Customer", readonly=True)
    age = fields.Integer("Age", readonly=True,
        help="From the resident ID: the plans offered suit it.")
    brand = fields.Many2One('telecom.brand', "Brand", required=True)
    plans = fields.Many2Many('product.template', None, None,
        "Eligible Plans", readonly=True)
    eligible_services = fields.Many2Many('product.template', None, None,
        "Eligible Services", readonly=True)
    plan = fields.Many2One('product.template', "Plan", required=True,
        domain=[('id', 'in', Eval('plans', []))],
        help="Only the plans of the brand the customer may take.")
    services = fields.Many2Many('product.template', None, None,
        "Add-ons and Services",
        domain=[('id', 'in', Eval('eligible_services', []))])

    @fields.depends('brand', 'age')
    def on_change_with_plans(self):
        Template = Pool().get('product.template')
        return Template.offered(['plan'], self.brand, self.age)

    @fields.depends('brand', 'age')
    def on_change_with_eligible_services(self):
        Template = Pool().get('product.template')
        return Template.offered(['addon', 'vas'], self.brand, self.age)

    @fields.depends('brand', 'age', 'plan', 'services',
        methods=['on_change_with_plans', 'on_change_with_eligible_services'])
    def on_change_brand(self):
        plans = self.on_change_with_plans()
        services = self.on_change_with_eligible_services()
        if self.plan not in plans:
            self.plan = None
        self.services = [s for s in (self.services or []) if s in services]


class OrderEntrySim(ModelView):
    "Activation: the SIM card"
    __name__ = 'telecom.order.entry.sim'

    number = fields.Many2One('telecom.number', "Number", readonly=True)
    iccid = fields.Char("ICCID", required=True,
        help="Scan the bar code of the SIM card or type its 19 or 20 "
        "digits.")

    @fields.depends('iccid')
    def on_change_iccid(self):
        if self.iccid:
            self.iccid = iccid.check(self.iccid)


class OrderEntryFees(ModelView):
    "Activation: fees and account"
    __name__ = 'telecom.order.entry.fees'

    company = fields.Many2One('company.company', "Company", readonly=True)
    customer = fields.Many2One('party.party', "Customer", readonly=True)
    number = fields.Many2One('telecom.number', "Number", readonly=True)
    plan = fields.Many2One('product.template', "Plan", readonly=True)
    currency = fields.Many2One('currency.currency', "Currency",
        readonly=True)
    premium_fee = Monetary("Premium Number Fee", currency='currency',
        digits='currency', readonly=True)
    plan_fee = Monetary("Plan Monthly Fee", currency='currency',
        digits='currency', readonly=True)
    services_fee = Monetary("Services Monthly Fee", currency='currency',
        digits='currency', readonly=True,
        help="The add-ons and value-added services taken with the plan.")
    days_left = fields.Integer("Days Left in the Month", readonly=True,
        help="Today included.")
    days_in_month = fields.Integer("Days in the Month", readonly=True)
    prorated_fee = Monetary("First Month's Fees", currency='currency',
        digits='currency', readonly=True,
        help="The monthly fees shared out over the days left in the month.")
    total = Monetary("To Pay Today", currency='currency', digits='currency',
        readonly=True,
        help="The premium number fee and the first month's fees.")
    account = fields.Many2One('telecom.account', "Billing Account",
        domain=[
            ('payer', '=', Eval('customer', -1)),
            ('company', '=', Eval('company', -1)),
            ('state', '=', 'active'),
            ],
        states={
            'required': ~Eval('new_account'),
            'invisible': Bool(Eval('new_account')),
            },
        help="Only the customer's own accounts.")
    new_account = fields.Boolean("Open a New Account")
    payment_type = fields.Selection([
            ('prepaid', "Prepaid"),
            ('postpaid', "Postpaid"),
            ], "Payment Type",
        states={
            'invisible': ~Eval('new_account'),
            'required': Bool(Eval('new_account')),
            })

    @classmethod
    def default_payment_type(cls):
        return 'prepaid'

    @fields.depends('new_account', 'account')
    def on_change_new_account(self):
        if self.new_account:
            self.account = None


class OrderEntry(Wizard):
    "Activate a new line at the business hall"
    __name__ = 'telecom.order.entry'

    start = StateTransition()
    identify = StateView('telecom.order.entry.identify',
        'crm_telecom.order_entry_identify_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Next", 'identified', 'tryton-forward', default=True),
            ])
    identified = StateTransition()
    choose_number = StateView('telecom.order.entry.number',
        'crm_telecom.order_entry_number_view_form', [
            Button("Cancel", 'cancel', 'tryton-cancel', validate=False),
            Button("Previous", 'identify', 'tryton-back', validate=False),
            Button("Next", 'reserve', 'tryton-forward', default=True),
            ])
    reserve = StateTransition()
    choose_plan = StateView('telecom.order.entry.plan',
        'crm_telecom.order_entry_plan_view_form', [
            Button("Cancel", 'cancel', 'tryton-cancel', validate=False),
            Button("Previous", 'choose_number', 'tryton-back',
                validate=False),
            Button("Next", 'planned', 'tryton-forward', default=True),
            ])
    planned = StateTransition()
    sim = StateView('telecom.order.entry.sim',
        'crm_telecom.order_entry_sim_view_form', [
            Button("Cancel", 'cancel', 'tryton-cancel', validate=False),
            Button("Previous", 'choose_plan', 'tryton-back', validate=False),
            Button("Next", 'scanned', 'tryton-forward', default=True),
            ])
    scanned = StateTransition()
    fees = StateView('telecom.order.entry.fees',
        'crm_telecom.order_entry_fees_view_form', [
            Button("Cancel", 'cancel', 'tryton-cancel', validate=False),
            Button("Previous", 'sim', 'tryton-back', validate=False),
            Button("Confirm", 'confirm', 'tryton-ok', default=True),
            ])
    confirm = StateTransition()
    open_order = StateAction('crm_telecom.act_order_entry_open')
    cancel = StateTransition()

    @property
    def order(self):
        return self.choose_number.order

    @property
    def customer(self):
        return self.identify.customer

    # --- 1. the customer ------------------------------------------------

    def transition_start(self):
        context = Transaction().context
        if context.get('active_model') == 'party.party' and context.get(
                'active_id'):
            customer = Pool().get('party.party')(context['active_id'])
            self.check_customer(customer)
            self.identify.from_customer = True
            self.identify.customer = customer
            self.identify.identity_code = (
                customer.cn_identifier.code if customer.cn_identifier
                else None)
            self.identify.name = customer.name
            return 'choose_number'
        return 'identify'

    def default_identify(self, fields):
        return {n: v for n, v in self.identify._default_values.items()
            if n in fields}

    def check_customer(self, customer):
        "The real-name rules, before anything else"
        Pool().get('telecom.order').check_real_name(customer,
            exclude=self.order.id if self.order else None)

    def transition_identified(self):
        pool = Pool()
        Party = pool.get('party.party')
        code = identity.check(self.identify.identity_code)
        customer = find_customer(code)
        if not customer:
            customer = Party(name=self.identify.name,
                company=default_company(),
                identifiers=[{'type': identity.TYPE, 'code': code}],
                contact_mechanisms=[{'type': 'mobile',
                        'value': self.identify.phone}]
                if self.identify.phone else [],
                addresses=[{'street_unstructured': self.identify.street,
                        'city': self.identify.city}]
                if self.identify.street or self.identify.city else [])
            customer.save()
        self.check_customer(customer)
        if self.order and self.order.customer != customer:
            # back to another customer: the number goes back to the pool
            self._cancel_order()
        self.identify.customer = customer
        return 'choose_number'

    # --- 2. the number --------------------------------------------------

    def default_choose_number(self, fields):
        number = self.choose_number
        return {
            # the clerk's company: its number pool
            'company': default_company() or (
                self.customer.company.id if self.customer.company else None),
            'customer': self.customer.id,
            'order': self.order.id if self.order else None,
            'pattern': number.pattern,
            'match': number.match or 'tail',
            'grade': number.grade,
            'numbers': [n.id for n in number.numbers or []],
            'number': number.number.id if number.number else None,
            }

    def transition_reserve(self):
        "A draft activation holds the number (and gives back the former one)"
        Order = Pool().get('telecom.order')
        order = self.order
        number = self.choose_number.number
        if not order:
            order = Order(type='activate', customer=self.customer,
                company=self.choose_number.company or default_company(),
                number=number)
            order.save()
        elif order.number != number:
            order.number = number
            order.save()
        self.choose_number.order = order
        return 'choose_plan'

    # --- 3. the plan ----------------------------------------------------

    def default_choose_plan(self, fields):
        plan = self.choose_plan
        order = self.order
        brand = plan.brand or order.brand
        chosen = plan.plan or order.plan
        age = self.customer.identity_age
        Template = Pool().get('product.template')
        return {
            'customer': self.customer.id,
            'age': age,
            'brand': brand.id if brand else None,
            'plans': [p.id for p in Template.offered(['plan'], brand, age)],
            'eligible_services': [p.id for p in Template.offered(
                    ['addon', 'vas'], brand, age)],
            'plan': chosen.id if chosen else None,
            'services': [s.id for s in (plan.services or order.services)],
            }

    def transition_planned(self):
        plan = self.choose_plan
        age = self.customer.identity_age
        for product in [plan.plan, *plan.services]:
            product.check_eligibility(brand=plan.brand, age=age)
        order = self.order
        order.brand = plan.brand
        order.plan = plan.plan
        order.services = list(plan.services)
        order.save()
        return 'sim'

    # --- 4. the SIM card ------------------------------------------------

    def default_sim(self, fields):
        return {
            'number': self.order.number.id,
            'iccid': self.sim.iccid or self.order.iccid,
            }

    def transition_scanned(self):
        order = self.order
        order.iccid = iccid.check(self.sim.iccid)
        order.save()
        return 'fees'

    # --- 5 and 6. fees and account ----------------------------------------

    def default_fees(self, fields):
        pool = Pool()
        Date = pool.get('ir.date')
        order = self.order
        account = self.fees.account or order.account
        if not account and not self.fees.new_account:
            account = self.proposed_account()
        return {
            'company': order.company.id,
            'customer': order.customer.id,
            'number': order.number.id,
            'plan': order.plan.id,
            'currency': company_currency(order.company),
            **activation_fees(order, Date.today()),
            'account': account.id if account else None,
            'new_account': bool(self.fees.new_account or not account),
            'payment_type': self.fees.payment_type or 'prepaid',
            }

    def proposed_account(self):
        Account = Pool().get('telecom.account')
        return Account.proposed(self.customer, self.order.company)

    # --- 7. confirmation ------------------------------------------------

    def transition_confirm(self):
        pool = Pool()
        Order = pool.get('telecom.order')
        Account = pool.get('telecom.account')
        order = self.order
        account = self.fees.account
        if self.fees.new_account or not account:
            account = Account(payer=order.customer, company=order.company,
                payment_type=self.fees.payment_type or 'prepaid')
            account.save()
        order.account = account
        order.save()
        Order.submit([order])
        return 'open_order'

    def do_open_order(self, action):
        action['res_id'] = [self.order.id]
        action['pyson_domain'] = PYSONEncoder().encode(
            [('id', '=', self.order.id)])
        return action, {}

    # --- cancel ---------------------------------------------------------

    def transition_cancel(self):
        self._cancel_order()
        return 'end'

    def end(self):
        # also when the window is closed without 取消 (or after an error):
        # a draft left behind would hold its number for hours; a submitted
        # order is not touched
        self._cancel_order()

    def _cancel_order(self):
        "Cancel the draft activation, which releases its number"
        Order = Pool().get('telecom.order')
        if self.order and self.order.state == 'draft':
            Order.cancel([self.order])
        self.choose_number.order = None
        self.choose_number.number = None


class OrderReceipt(Report):
    "Activation receipt (受理单) the customer signs and keeps"
    __name__ = 'telecom.order.receipt'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Date = pool.get('ir.date')
        context = super().get_context(records, header, data)
        context['format_money'] = format_money

        def fees(order):
            date = (order.submitted_at.date() if order.submitted_at
                else Date.today())
            return activation_fees(order, date)
        context['fees'] = fees
        return context
