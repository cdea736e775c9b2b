"""Monthly dealer settlements: the preview, the confirmation, the payment

The period's run leaves one draft settlement per dealer: the preview,
listing every commission and clawback. Confirming freezes it; paying it
(refused while a risk flag holds the dealer's commission) settles it,
through a supplier invoice when the company keeps accounts for the plan's
commission product."""
import datetime as dt
from decimal import Decimal

from sql.aggregate import Count, Sum
from sql.conditionals import Case

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.modules.account_product.exceptions import AccountError
from trytond.modules.company.model import (
    employee_field,
    reset_employee,
    set_employee,
)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, sqlite_apply_types
from trytond.transaction import Transaction

from crm_telecom.sql_tools import in_ids

from .exceptions import CommissionError

AMOUNTS = {
    'activation_amount': ['activation'],
    'revenue_share_amount': ['revenue_share'],
    'bonus_amount': ['volume_tier', 'vas_bonus', 'instalment'],
    'clawback_amount': ['clawback'],
    }


class Settlement(Workflow, ModelSQL, ModelView):
    "Dealer commission settlement"
    __name__ = 'telecom.commission.settlement'

    dealer = fields.Many2One('commission.agent', "Dealer", required=True,
        readonly=True, ondelete='RESTRICT')
    period = fields.Many2One('telecom.commission.period', "Period",
        required=True, readonly=True, ondelete='RESTRICT')
    company = fields.Many2One('company.company', "Company", required=True,
        readonly=True)
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')
    state = fields.Selection([
            ('draft', "Draft"),
            ('confirmed', "Confirmed"),
            ('paid', "Paid"),
            ], "State", required=True, readonly=True, sort=False)
    state_string = state.translated('state')
    lines = fields.One2Many('commission', 'settlement', "Commissions",
        readonly=True, order=[('kind', 'ASC'), ('subscriber', 'ASC'),
            ('id', 'ASC')])
    total = Monetary("Total", currency='currency', digits='currency',
        readonly=True)
    activation_amount = fields.Function(Monetary("Activations",
            currency='currency', digits='currency'), 'get_amounts')
    revenue_share_amount = fields.Function(Monetary("Revenue Share",
            currency='currency', digits='currency'), 'get_amounts')
    bonus_amount = fields.Function(Monetary("Bonuses and Instalments",
            currency='currency', digits='currency'), 'get_amounts')
    clawback_amount = fields.Function(Monetary("Clawbacks",
            currency='currency', digits='currency'), 'get_amounts')
    line_count = fields.Function(fields.Integer("Lines"), 'get_amounts')
    held = fields.Function(fields.Boolean("Held",
            help="An open risk flag holds the dealer's commission: the "
            "settlement cannot be paid until the flags are cleared."),
        'get_held', searcher='search_held')
    confirmed_by = employee_field("Confirmed By",
        states=['draft', 'confirmed', 'paid'])
    confirmed_at = fields.DateTime("Confirmed At", readonly=True)
    paid_by = employee_field("Paid By",
        states=['draft', 'confirmed', 'paid'])
    paid_at = fields.DateTime("Paid At", readonly=True)
    invoices = fields.Function(fields.Many2Many('account.invoice', None,
            None, "Invoices"), 'get_invoices')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('dealer')
        t = cls.__table__()
        cls._sql_constraints += [
            ('dealer_period_unique', Unique(t, t.dealer, t.period),
                'crm_channel.msg_settlement_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.period, Index.Range())),
                Index(t, (t.dealer, Index.Range())),
                })
        cls._order = [('period', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'confirmed'),
            ('confirmed', 'draft'),
            ('confirmed', 'paid'),
            }
        cls._buttons.update({
                'draft': {
                    'invisible': Eval('state') != 'confirmed',
                    'depends': ['state'],
                    },
                'confirm': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                # a held settlement says why it is not paid when clicked
                'pay': {
                    'invisible': Eval('state') != 'confirmed',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @fields.depends('dealer')
    def on_change_with_currency(self, name=None):
        return self.dealer.currency if self.dealer else None

    def get_rec_name(self, name):
        return '%s - %s' % (self.dealer.rec_name, self.period.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith('!') or operator.startswith(
            'not ') else 'OR'
        return [bool_op,
            ('dealer.rec_name', operator, operand, *extra),
            ('period.rec_name', operator, operand, *extra),
            ]

    @classmethod
    def _sums(cls, settlements):
        "{settlement id: {field: amount}} by one grouped query per batch"
        Commission = Pool().get('commission')
        commission = Commission.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        for sub_ids in grouped_slice([s.id for s in settlements], 1000):
            columns = [commission.settlement]
            for name, kinds in AMOUNTS.items():
                columns.append(Sum(Case((commission.kind.in_(kinds),
                                commission.amount), else_=0)).as_(name))
            columns.append(Sum(commission.amount).as_('total'))
            columns.append(Count(commission.subscriber, distinct=True).as_(
                    'line_count'))
            query = commission.select(*columns,
                where=in_ids(commission.settlement, list(sub_ids)),
                group_by=[commission.settlement])
            if backend.name == 'sqlite':
                sqlite_apply_types(query,
                    [None] + ['NUMERIC'] * (len(AMOUNTS) + 1) + [None])
            cursor.execute(*query)
            for row in cursor:
                result[row[0]] = dict(zip(
                        list(AMOUNTS) + ['total', 'line_count'], row[1:]))
        return result

    @classmethod
    def get_amounts(cls, settlements, names):
        sums = cls._sums(settlements)
        result = {n: {} for n in names}
        for settlement in settlements:
            values = sums.get(settlement.id, {})
            for name in names:
                value = values.get(name)
                if name == 'line_count':
                    result[name][settlement.id] = value or 0
                else:
                    result[name][settlement.id] = settlement.currency.round(
                        Decimal(str(value or 0)))
        return result

    @classmethod
    def update_total(cls, settlements):
        sums = cls._sums(settlements)
        to_write = []
        for settlement in settlements:
            total = sums.get(settlement.id, {}).get('total') or 0
            to_write.extend([[settlement], {
                        'total': settlement.currency.round(
                            Decimal(str(total)))}])
        if to_write:
            cls.write(*to_write)

    @classmethod
    def get_held(cls, settlements, name):
        return {s.id: bool(s.dealer.commission_held) for s in settlements}

    @classmethod
    def search_held(cls, name, clause):
        return [('dealer.commission_held',) + tuple(clause[1:])]

    def get_invoices(self, name):
        return list({c.invoice_line.invoice.id for c in self.lines
                if c.invoice_line and c.invoice_line.invoice})

    @classmethod
    def check_modification(cls, mode, settlements, values=None,
            external=False):
        super().check_modification(mode, settlements, values=values,
            external=external)
        if mode == 'delete':
            for settlement in settlements:
                if settlement.state != 'draft':
                    raise CommissionError(gettext(
                            'crm_channel.msg_settlement_delete',
                            settlement=settlement.rec_name,
                            state=settlement.state_string))

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    @reset_employee('confirmed_by')
    def draft(cls, settlements):
        for settlement in settlements:
            if settlement.period.state != 'open':
                raise CommissionError(gettext(
                        'crm_channel.msg_settlement_period_closed',
                        settlement=settlement.rec_name,
                        period=settlement.period.rec_name))
        cls.write(settlements, {'confirmed_at': None})

    @classmethod
    @ModelView.button
    @Workflow.transition('confirmed')
    @set_employee('confirmed_by')
    def confirm(cls, settlements):
        cls.update_total(settlements)
        cls.write(settlements, {'confirmed_at': dt.datetime.now()})

    @classmethod
    @ModelView.button
    @Workflow.transition('paid')
    @set_employee('paid_by')
    def pay(cls, settlements):
        pool = Pool()
        Commission = pool.get('commission')
        for settlement in settlements:
            if settlement.dealer.commission_held:
                raise CommissionError(gettext(
                        'crm_channel.msg_settlement_held',
                        dealer=settlement.dealer.rec_name,
                        settlement=settlement.rec_name))
        by_company = {}
        for settlement in settlements:
            by_company.setdefault(settlement.company.id, []).extend(
                c.id for c in settlement.lines if not c.invoice_line)
        for company_id, ids in by_company.items():
            # the accounts of the commission product are the company's
            with Transaction().set_context(company=company_id):
                commissions = Commission.browse(ids)
                # once per product and per dealer, not per commission
                invoiced = {p for p in {c.product for c in commissions}
                    if cls._invoiced(p)}
                to_invoice = [c for c in commissions
                    if c.product in invoiced]
                dealers = {c.agent: c.settlement for c in to_invoice}
                for dealer, settlement in dealers.items():
                    if not dealer.party.address_get(type='invoice'):
                        raise CommissionError(gettext(
                                'crm_channel.msg_settlement_invoice_address',
                                dealer=dealer.rec_name,
                                settlement=settlement.rec_name))
                if to_invoice:
                    Commission.invoice(to_invoice)
        cls.write(settlements, {'paid_at': dt.datetime.now()})

    @staticmethod
    def _invoiced(product):
        """Whether the company keeps accounts for the commission product:
        then the dealer is settled by a supplier invoice"""
        try:
            return bool(product.account_expense_used)
        except AccountError:
            return False


class Agent(metaclass=PoolMeta):
    __name__ = 'commission.agent'

    settlements = fields.One2Many('telecom.commission.settlement', 'dealer',
        "Settlements", readonly=True)
