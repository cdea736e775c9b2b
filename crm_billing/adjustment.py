import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.company.model import employee_field, set_employee
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from crm_telecom.money import format_money

from .company import AccountMoneyMixin
from .exceptions import BillingError

_readonly = {'readonly': Eval('state') != 'draft'}


class Adjustment(AccountMoneyMixin, Workflow, ModelSQL, ModelView):
    """Credit or debit on an account, billed on its next bill.

    Amounts above the configured limit wait for a second person's
    approval."""
    __name__ = 'telecom.bill.adjustment'

    account = fields.Many2One('telecom.account', "Account", required=True,
        ondelete='RESTRICT', states=_readonly)
    subscriber = fields.Many2One('telecom.subscriber', "Line",
        ondelete='RESTRICT', states=_readonly,
        domain=[('account', '=', Eval('account', -1))])
    amount = Monetary("Amount", currency='currency', digits='currency',
        required=True,
        states=_readonly,
        help="Positive: an extra charge. Negative: a credit.")
    reason = fields.Text("Reason", required=True, states=_readonly)
    state = fields.Selection([
            ('draft', "Draft"),
            ('waiting', "Waiting for Approval"),
            ('approved', "Approved"),
            ('refused', "Refused"),
            ], "State", required=True, readonly=True, sort=False)
    requested_by = fields.Many2One('res.user', "Requested By", readonly=True)
    requested_employee = employee_field("Requested by Employee",
        states=['draft', 'waiting', 'approved', 'refused'])
    approved_employee = employee_field("Approved by Employee",
        states=['draft', 'waiting', 'approved', 'refused'])
    approved_by = fields.Many2One('res.user', "Approved By", readonly=True)
    approved_at = fields.DateTime("Approved At", readonly=True)
    bill = fields.Many2One('telecom.bill', "Billed On", readonly=True,
        ondelete='RESTRICT')
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.account, Index.Range()),
                where=t.bill == None))  # noqa: E711
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'waiting'),
            ('draft', 'approved'),
            ('waiting', 'approved'),
            ('waiting', 'refused'),
            ('waiting', 'draft'),
            }
        cls._buttons.update({
                'confirm': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'waiting',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'refuse': {
                    'invisible': Eval('state') != 'waiting',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    def get_rec_name(self, name):
        return '%s %s' % (self.account.rec_name, format_money(self.amount))

    @classmethod
    def validate_fields(cls, adjustments, field_names):
        super().validate_fields(adjustments, field_names)
        for adjustment in adjustments:
            if not adjustment.amount:
                raise BillingError(gettext('crm_billing.msg_adjustment_zero'))

    @classmethod
    def check_modification(cls, mode, adjustments, values=None,
            external=False):
        super().check_modification(
            mode, adjustments, values=values, external=external)
        if mode == 'delete':
            for adjustment in adjustments:
                if adjustment.state != 'draft':
                    raise BillingError(gettext(
                            'crm_billing.msg_adjustment_delete',
                            adjustment=adjustment.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('waiting')
    @set_employee('requested_employee')
    def confirm(cls, adjustments):
        "Small amounts are approved at once, larger ones wait"
        Configuration = Pool().get('telecom.configuration')
        limit = Configuration(1).adjustment_approval_amount
        user = Transaction().user or None
        cls.write(adjustments, {'requested_by': user})
        cls.approve([a for a in adjustments if abs(a.amount) <= limit],
            check_approver=False)

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    @set_employee('approved_employee')
    def approve(cls, adjustments, check_approver=True):
        user = Transaction().user
        if check_approver and user:
            for adjustment in adjustments:
                if adjustment.requested_by and (
                        adjustment.requested_by.id == user):
                    raise BillingError(gettext(
                            'crm_billing.msg_adjustment_approver',
                            adjustment=adjustment.rec_name,
                            amount=format_money(adjustment.amount)))
        cls.write(adjustments, {
                'approved_by': user or None,
                'approved_at': dt.datetime.now(),
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('refused')
    def refuse(cls, adjustments):
        pass
