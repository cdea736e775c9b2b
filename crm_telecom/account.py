from decimal import Decimal

from dateutil.relativedelta import relativedelta

from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval

from .company import company_currency, default_company


class Account(DeactivableMixin, ModelSQL, ModelView):
    "Billing account: who pays for one or more lines"
    __name__ = 'telecom.account'

    code = fields.Char("Code", readonly=True)
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', states={'readonly': Eval('id', -1) >= 0})
    name = fields.Char("Name")
    payer = fields.Many2One('party.party', "Payer", required=True,
        ondelete='RESTRICT')
    payment_type = fields.Selection([
            ('prepaid', "Prepaid"),
            ('postpaid', "Postpaid"),
            ], "Payment Type", required=True)
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')
    balance = Monetary("Balance", currency='currency', digits='currency',
        readonly=True,
        help="Prepaid credit left, or (negative) what a postpaid payer owes.")
    credit_limit = Monetary("Credit Limit", currency='currency',
        digits='currency', required=True, domain=[('credit_limit', '>=', 0)],
        states={'invisible': Eval('payment_type') != 'postpaid'})
    bill_cycle_day = fields.Integer("Bill Cycle Day", required=True,
        domain=[('bill_cycle_day', '>=', 1), ('bill_cycle_day', '<=', 28)],
        help="Day of the month on which a new bill cycle starts.")
    state = fields.Selection([
            ('active', "Active"),
            ('suspended', "Suspended"),
            ('closed', "Closed"),
            ], "State", required=True, readonly=True)
    subscribers = fields.One2Many('telecom.subscriber', 'account', "Lines",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'crm_telecom.msg_account_code_unique'),
            ]
        cls._order.insert(0, ('code', 'DESC'))

    @classmethod
    def default_company(cls):
        return default_company()

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return company_currency(self.company)

    @classmethod
    def default_payment_type(cls):
        return 'prepaid'

    @classmethod
    def default_balance(cls):
        return Decimal('0.00')

    @classmethod
    def default_credit_limit(cls):
        return Decimal('0.00')

    @classmethod
    def default_bill_cycle_day(cls):
        return 1

    @classmethod
    def default_state(cls):
        return 'active'

    @classmethod
    def proposed(cls, payer, company):
        """The account a new line or a transfer proposes to payer: their
        latest active account in the company, never another customer's"""
        accounts = cls.search([
                ('payer', '=', payer.id),
                ('company', '=', company.id),
                ('state', '=', 'active'),
                ], order=[('id', 'DESC')], limit=1)
        return accounts[0] if accounts else None

    def get_rec_name(self, name):
        label = self.code or str(self.id)
        if self.name:
            label += ' ' + self.name
        return label

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith('!') or operator.startswith(
            'not ') else 'OR'
        return [bool_op,
            ('code', operator, operand, *extra),
            ('name', operator, operand, *extra),
            ('payer.name', operator, operand, *extra),
            ]

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('code'):
            sequence = Configuration(1).account_sequence
            if sequence:
                values['code'] = sequence.get()
        return values

    @classmethod
    def copy(cls, records, default=None):
        # a copy is a new record with a code of its own
        default = default.copy() if default is not None else {}
        default.setdefault('code', None)
        return super().copy(records, default=default)

    def next_cycle_start(self, date):
        "First day of the bill cycle that follows date"
        start = date.replace(day=self.bill_cycle_day)
        if start <= date:
            start += relativedelta(months=1)
        return start


