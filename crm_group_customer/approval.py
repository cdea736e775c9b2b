"""Approval of group tariffs: the matrix of who approves a discount (by its
depth and the deal's monthly revenue) and the approval steps of each
tariff line"""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import (
    ModelSQL,
    ModelView,
    Workflow,
    fields,
    sequence_ordered,
)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import GroupError, GroupValidationError

# the order the levels approve in
LEVELS = [
    ('director', "Group Customer Director"),
    ('province', "Province Company"),
    ('headquarters', "Headquarters"),
    ]
# the role of each level (module, res.group xml id)
LEVEL_GROUPS = {
    'director': ('crm_telecom', 'group_group_director'),
    'province': ('crm_group_customer', 'group_province_approver'),
    'headquarters': ('crm_group_customer', 'group_hq_approver'),
    }
# levels whose approvers must work for the tariff's company
COMPANY_LEVELS = {'director', 'province'}


class ApprovalRule(sequence_ordered(), ModelSQL, ModelView):
    """Approval rule of group tariffs: the first rule (by sequence) whose
    limits hold for a discount and a deal says which levels approve it"""
    __name__ = 'telecom.group.approval.rule'

    max_discount = fields.Numeric("Max Discount (%)", digits=(5, 2),
        required=True,
        domain=[('max_discount', '>=', 0), ('max_discount', '<=', 100)])
    max_monthly_amount = fields.Numeric("Max Monthly Amount",
        digits=(16, 2),
        domain=['OR', ('max_monthly_amount', '=', None),
            ('max_monthly_amount', '>=', 0)],
        help="The deal's expected monthly revenue; empty: no limit.")
    director = fields.Boolean("Director")
    province = fields.Boolean("Province Company")
    headquarters = fields.Boolean("Headquarters")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__ = set()

    @classmethod
    def default_director(cls):
        return True

    @property
    def levels(self):
        return [l for l, _ in LEVELS if getattr(self, l)]

    def match(self, discount, monthly_amount):
        return (discount <= self.max_discount
            and (self.max_monthly_amount is None
                or (monthly_amount or 0) <= self.max_monthly_amount))

    @classmethod
    def levels_for(cls, discount, monthly_amount):
        "The levels that approve a discount, in order"
        for rule in cls.search([]):
            if rule.match(discount, monthly_amount):
                return rule.levels
        raise GroupError(gettext(
                'crm_group_customer.msg_approval_no_rule',
                discount=discount, amount=monthly_amount))

    @classmethod
    def validate_fields(cls, rules, field_names):
        super().validate_fields(rules, field_names)
        for rule in rules:
            if not rule.levels:
                raise GroupValidationError(gettext(
                        'crm_group_customer.msg_approval_rule_levels',
                        discount=rule.max_discount))


class TariffApproval(Workflow, ModelSQL, ModelView):
    "Approval step of a group tariff line"
    __name__ = 'telecom.group.tariff.approval'

    tariff = fields.Many2One('telecom.group.tariff', "Tariff",
        required=True, ondelete='CASCADE', readonly=True)
    line = fields.Many2One('telecom.group.tariff.line', "Tariff Line",
        required=True, ondelete='CASCADE', readonly=True)
    product = fields.Function(fields.Many2One('product.template',
            "Product"), 'get_line_field')
    discount = fields.Numeric("Discount (%)", digits=(5, 2), readonly=True,
        help="The discount asked when the line was submitted.")
    level = fields.Selection(LEVELS, "Level", required=True, readonly=True,
        sort=False)
    sequence = fields.Integer("Sequence", readonly=True)
    state = fields.Selection([
            ('waiting', "Waiting"),
            ('pending', "Pending"),
            ('approved', "Approved"),
            ('rejected', "Rejected"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)
    submitted_by = fields.Many2One('res.user', "Submitted By",
        readonly=True)
    approver = fields.Many2One('res.user', "Approver", readonly=True)
    approver_employee = fields.Many2One('company.employee',
        "Approver Employee", readonly=True)
    date = fields.DateTime("Date", readonly=True)
    comment = fields.Text("Comment",
        states={'readonly': Eval('state') != 'pending'})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('tariff')
        cls._order = [('tariff', 'ASC'), ('line', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('waiting', 'pending'),
            ('pending', 'approved'),
            ('pending', 'rejected'),
            ('waiting', 'cancelled'),
            }
        cls._buttons.update({
                'approve': {
                    'invisible': Eval('state') != 'pending',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'pending',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'waiting'

    def get_line_field(self, name):
        value = getattr(self.line, name)
        return value.id if value else None

    def get_rec_name(self, name):
        return '%s / %s' % (self.line.rec_name, self.level_string)

    level_string = level.translated('level')

    def check_approver(self):
        "The user may act on the step: of its level, not who submitted"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        transaction = Transaction()
        if not transaction.user:
            return
        user = User(transaction.user)
        module, xml_id = LEVEL_GROUPS[self.level]
        allowed = ModelData.get_id(module, xml_id) in User.get_groups()
        if allowed and self.level in COMPANY_LEVELS:
            allowed = self.tariff.company in user.companies
        if not allowed:
            raise GroupError(gettext(
                    'crm_group_customer.msg_approval_wrong_user',
                    user=user.rec_name, level=self.level_string,
                    line=self.line.rec_name))
        if self.submitted_by and self.submitted_by == user:
            raise GroupError(gettext(
                    'crm_group_customer.msg_approval_submitter',
                    user=user.rec_name, line=self.line.rec_name))

    @classmethod
    def _stamp_approver(cls, steps):
        User = Pool().get('res.user')
        user = Transaction().user
        # an approver of headquarters is an employee of another company
        # than the tariff's: the employee is the user's own
        employee = User(user).employee if user else None
        cls.write(steps, {
                'approver': user or None,
                'approver_employee': employee.id if employee else None,
                'date': dt.datetime.now(),
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, steps):
        "Approve; the next level's step comes next, or the line is approved"
        Line = Pool().get('telecom.group.tariff.line')
        for step in steps:
            step.check_approver()
        cls._stamp_approver(steps)
        following, done = [], []
        for step in steps:
            nexts = cls.search([
                    ('line', '=', step.line.id),
                    ('state', '=', 'waiting'),
                    ], order=[('sequence', 'ASC')], limit=1)
            if nexts:
                following.extend(nexts)
            else:
                done.append(step.line)
        if following:
            cls.write(following, {'state': 'pending'})
        if done:
            Line.approved(done)

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, steps):
        "Reject: the line keeps the discount approved before, if any"
        Line = Pool().get('telecom.group.tariff.line')
        for step in steps:
            step.check_approver()
        cls._stamp_approver(steps)
        lines = [s.line for s in steps]
        cls.cancel(cls.search([
                    ('line', 'in', [l.id for l in lines]),
                    ('state', '=', 'waiting'),
                    ]))
        Line.rejected(lines)

    @classmethod
    @Workflow.transition('cancelled')
    def cancel(cls, steps):
        pass
