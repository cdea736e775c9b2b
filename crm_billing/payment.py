import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.model.fields import SQL_OPERATORS
from trytond.modules.company.model import employee_field, set_employee
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from crm_telecom.money import format_money

from .company import AccountMoneyMixin
from .exceptions import PaymentError

PAYMENT_KINDS = [
    ('payment', "Payment"),
    ('top_up', "Top-up"),
    ]
CHANNELS = [
    ('business_hall', "Business Hall"),
    ('call_centre', "Call Centre"),
    ('online', "Online"),
    ('app', "Mobile App"),
    ('sms_hall', "SMS Hall"),
    ('bank', "Bank Debit"),
    ('agent', "Agent"),
    ('post_office', "Post Office"),
    ]
METHODS = [
    ('cash', "Cash"),
    ('bank_card', "Bank Card"),
    ('wechat', "WeChat Pay"),
    ('alipay', "Alipay"),
    ('bank_transfer', "Bank Transfer"),
    ('voucher', "Top-up Voucher"),
    ]
PAYMENT_STATES = [
    ('draft', "Draft"),
    ('posted', "Posted"),
    ('reversed', "Reversed"),
    ]
# what the workflow itself writes once a payment is posted
WORKFLOW_FIELDS = {
    'state', 'posted_by', 'posted_at', 'posted_employee', 'reversal_reason',
    'reversed_by', 'reversed_at', 'reversed_employee',
    }

_draft = Eval('state') != 'draft'


def _reference(value):
    "Blank references are no reference (they need not be unique)"
    value = (value or '').strip()
    return value or None


class Payment(AccountMoneyMixin, Workflow, ModelSQL, ModelView):
    "Payment or top-up received on a billing account"
    __name__ = 'telecom.payment'
    _rec_name = 'code'

    code = fields.Char("Code", readonly=True)
    account = fields.Many2One('telecom.account', "Account", required=True,
        ondelete='RESTRICT', states={'readonly': _draft})
    payer = fields.Many2One('party.party', "Payer", required=True,
        ondelete='RESTRICT', readonly=True,
        help="The payer of the account.")
    account_balance = fields.Function(Monetary("Account Balance",
            currency='currency', digits='currency',
            help="The account's balance now: negative when it owes."),
        'on_change_with_account_balance')
    amount_due = fields.Function(Monetary("Amount Due",
            currency='currency', digits='currency',
            help="What the account owes now."),
        'on_change_with_amount_due')
    kind = fields.Selection(PAYMENT_KINDS, "Kind", required=True,
        states={'readonly': _draft})
    channel = fields.Selection(CHANNELS, "Channel", required=True,
        states={'readonly': _draft})
    method = fields.Selection(METHODS, "Method", required=True,
        states={'readonly': _draft})
    amount = Monetary("Amount", currency='currency', digits='currency',
        required=True,
        states={'readonly': _draft})
    date = fields.Date("Date", required=True, states={'readonly': _draft})
    reference = fields.Char("Reference", states={'readonly': _draft},
        help="Transaction number given by the bank, gateway or agent: "
        "one transaction is credited only once per channel.")
    state = fields.Selection(PAYMENT_STATES, "State", required=True,
        readonly=True, sort=False)
    posted_employee = employee_field("Posted by Employee",
        states=['draft', 'posted', 'reversed'])
    reversed_employee = employee_field("Reversed by Employee",
        states=['draft', 'posted', 'reversed'])
    posted_by = fields.Many2One('res.user', "Posted By", readonly=True,
        ondelete='RESTRICT')
    posted_at = fields.DateTime("Posted At", readonly=True)
    reversal_reason = fields.Text("Reversal Reason", readonly=True,
        states={'invisible': Eval('state') != 'reversed'})
    reversed_by = fields.Many2One('res.user', "Reversed By", readonly=True,
        ondelete='RESTRICT',
        states={'invisible': Eval('state') != 'reversed'})
    reversed_at = fields.DateTime("Reversed At", readonly=True,
        states={'invisible': Eval('state') != 'reversed'})
    kind_string = kind.translated('kind')
    channel_string = channel.translated('channel')
    method_string = method.translated('method')
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # the database refuses a second credit for one gateway transaction
        cls._sql_constraints = [
            ('channel_reference_unique', Unique(t, t.channel, t.reference),
                'crm_billing.msg_payment_reference_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.code, Index.Equality(cardinality='high'))),
                Index(t, (t.account, Index.Range())),
                Index(t, (t.payer, Index.Range())),
                Index(t, (t.date, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state == 'draft'),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'posted'),
            ('posted', 'reversed'),
            }
        cls._buttons.update({
                'post': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'reverse': {
                    'invisible': Eval('state') != 'posted',
                    'icon': 'tryton-undo',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_kind(cls):
        return 'payment'

    @classmethod
    def default_channel(cls):
        return 'business_hall'

    @classmethod
    def default_method(cls):
        return 'cash'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @fields.depends('account', '_parent_account.balance')
    def on_change_with_account_balance(self, name=None):
        # the cashier sees what the customer owes before taking the money
        if self.account:
            return self.account.balance

    @fields.depends('account', '_parent_account.balance')
    def on_change_with_amount_due(self, name=None):
        if self.account:
            return max(-(self.account.balance or 0), 0)

    @fields.depends('account', 'payer', 'kind')
    def on_change_account(self):
        if self.account:
            self.payer = self.account.payer
            self.kind = self._kind_for(self.account.payment_type)

    @staticmethod
    def _kind_for(payment_type):
        return 'top_up' if payment_type == 'prepaid' else 'payment'

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        Account = pool.get('telecom.account')
        values = super().preprocess_values(mode, values)
        if 'reference' in values:
            values['reference'] = _reference(values['reference'])
        if values.get('account'):
            account = Account(values['account'])
            values['payer'] = account.payer.id
            if mode == 'create' and not values.get('kind'):
                values['kind'] = cls._kind_for(account.payment_type)
        if mode == 'create' and not values.get('code'):
            values['code'] = Configuration(1).payment_sequence.get()
        return values

    @classmethod
    def create(cls, vlist):
        # a clear message (with the reference) before the database refuses
        cls._check_references([
                (v.get('channel') or cls.default_channel(),
                    _reference(v.get('reference')))
                for v in vlist])
        return super().create(vlist)

    @classmethod
    def copy(cls, payments, default=None):
        # a copy is a new draft: it has not moved any money yet
        default = default.copy() if default is not None else {}
        default.setdefault('code', None)
        default.setdefault('reference', None)
        default.setdefault('date', cls.default_date())
        default.setdefault('state', cls.default_state())
        for name in WORKFLOW_FIELDS - {'state'}:
            default.setdefault(name, None)
        return super().copy(payments, default=default)

    @classmethod
    def check_modification(cls, mode, payments, values=None, external=False):
        super().check_modification(
            mode, payments, values=values, external=external)
        if mode == 'delete':
            for payment in payments:
                if payment.state != 'draft':
                    raise PaymentError(gettext(
                            'crm_billing.msg_payment_delete_posted',
                            payment=payment.rec_name))
        elif mode == 'write':
            if set(values) - WORKFLOW_FIELDS:
                for payment in payments:
                    if payment.state != 'draft':
                        raise PaymentError(gettext(
                                'crm_billing.msg_payment_modify_posted',
                                payment=payment.rec_name))
            if 'reference' in values or 'channel' in values:
                cls._check_references([
                        (values.get('channel', p.channel),
                            _reference(values.get('reference', p.reference)))
                        for p in payments], exclude=payments)

    @classmethod
    def _check_references(cls, pairs, exclude=None):
        "Refuse a (channel, reference) already recorded"
        pairs = [(c, r) for c, r in pairs if r]
        if not pairs:
            return
        seen = set()
        for channel, reference in pairs:
            if (channel, reference) in seen:
                cls._raise_duplicate(channel, reference, None)
            seen.add((channel, reference))
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        exclude_ids = [p.id for p in exclude or []]
        references = sorted({r for _, r in pairs})
        for sub_refs in grouped_slice(references, 1000):
            where = SQL_OPERATORS['in'](table.reference, list(sub_refs))
            if exclude_ids:
                where &= ~SQL_OPERATORS['in'](table.id, exclude_ids)
            cursor.execute(*table.select(
                    table.channel, table.reference, table.code, where=where))
            for channel, reference, code in cursor:
                if (channel, reference) in seen:
                    cls._raise_duplicate(channel, reference, code)

    @classmethod
    def _raise_duplicate(cls, channel, reference, code):
        channels = dict(cls.fields_get(['channel'])['channel']['selection'])
        raise PaymentError(gettext(
                'crm_billing.msg_payment_reference_duplicate',
                reference=reference, channel=channels.get(channel, channel),
                payment=code or ''))

    @classmethod
    def validate_fields(cls, payments, field_names):
        super().validate_fields(payments, field_names)
        if field_names is None or 'amount' in field_names:
            for payment in payments:
                if payment.amount is not None and payment.amount <= 0:
                    raise PaymentError(gettext(
                            'crm_billing.msg_payment_amount_positive',
                            payment=payment.rec_name,
                            amount=format_money(payment.amount)))

    # --- workflow ---------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('posted')
    @set_employee('posted_employee')
    def post(cls, payments):
        """Credit the accounts; lines suspended for arrears whose debt is
        now cleared are restored in the same transaction"""
        pool = Pool()
        Movement = pool.get('telecom.account.movement')
        Account = pool.get('telecom.account')
        if not payments:
            return
        cls.write(payments, {
                'posted_by': Transaction().user or None,
                'posted_at': dt.datetime.now(),
                })
        # the ledger and the restoration are consequences of the payment,
        # not something the cashier needs rights on
        with without_check_access():
            Movement.post([{
                        'account': p.account.id,
                        'kind': p.kind,
                        'amount': p.amount,
                        'origin': str(p),
                        } for p in payments])
            Account.settle_bills(list({p.account.id for p in payments}))

    @classmethod
    @ModelView.button_action('crm_billing.wizard_payment_reverse')
    def reverse(cls, payments):
        pass

    @classmethod
    def post_reversal(cls, payments, reason):
        """Reverse posted payments: a movement takes the amount back;
        the payment itself stays, marked reversed with the reason"""
        reason = (reason or '').strip()
        if not reason:
            raise PaymentError(gettext(
                    'crm_billing.msg_payment_reversal_reason',
                    payment=', '.join(p.rec_name for p in payments)))
        for payment in payments:
            if payment.state != 'posted':
                raise PaymentError(gettext(
                        'crm_billing.msg_payment_reverse_state',
                        payment=payment.rec_name,
                        state=payment.state_string))
        cls._reverse(payments, reason)

    @classmethod
    @Workflow.transition('reversed')
    @set_employee('reversed_employee')
    def _reverse(cls, payments, reason):
        pool = Pool()
        Movement = pool.get('telecom.account.movement')
        Account = pool.get('telecom.account')
        cls.write(payments, {
                'reversal_reason': reason,
                'reversed_by': Transaction().user or None,
                'reversed_at': dt.datetime.now(),
                })
        with without_check_access():
            Movement.post([{
                        'account': p.account.id,
                        'kind': 'reversal',
                        'amount': -p.amount,
                        'origin': str(p),
                        } for p in payments])
            # bills the reversed money had paid are open again
            Account.settle_bills(list({p.account.id for p in payments}))


class PaymentReverseStart(ModelView):
    "Reverse a payment: the reason"
    __name__ = 'telecom.payment.reverse.start'

    reason = fields.Text("Reason", required=True,
        help="Why the money is taken back (bounced debit, duplicate, "
        "wrong account...). Kept on the payment.")


class PaymentReverse(Wizard):
    "Reverse a posted payment"
    __name__ = 'telecom.payment.reverse'

    start = StateView('telecom.payment.reverse.start',
        'crm_billing.payment_reverse_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Reverse", 'reverse', 'tryton-ok', default=True),
            ])
    reverse = StateTransition()

    def transition_reverse(self):
        Payment = Pool().get('telecom.payment')
        Payment.post_reversal(list(self.records), self.start.reason)
        return 'end'
