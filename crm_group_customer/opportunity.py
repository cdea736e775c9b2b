"""The pre-sale pipeline of group customers on Tryton's opportunities: what
the group asks for, the products it is interested in, the expected monthly
revenue and the investment it pays back, and the project approval (立项审核)
a group-customer director gives before a contract is drafted.

Tryton's states say how far the opportunity went (lead, opportunity,
converted, won, lost, cancelled); an opportunity of a group goes through
stages Tryton does not name (需求调研, 方案, 立项, 商务谈判), kept in `stage`
while it is an opportunity, each with its usual conversion probability."""
import datetime as dt
import math

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from crm_telecom.company import default_company

from .exceptions import GroupError

STAGES = [
    (None, ""),
    ('research', "Requirement Research"),
    ('proposal', "Solution Proposal"),
    ('approval', "Project Approval"),
    ('negotiation', "Business Negotiation"),
    ]
# the conversion probability a stage usually has, set when it is chosen
STAGE_PROBABILITIES = {
    'research': 0.2,
    'proposal': 0.4,
    'approval': 0.6,
    'negotiation': 0.8,
    }
APPROVAL_STATES = [
    (None, ""),
    ('submitted', "Submitted"),
    ('approved', "Approved"),
    ('rejected', "Rejected"),
    ]
# the products an opportunity of a group is about
PRODUCT_TYPES = ['plan', 'addon', 'vas', 'group']
_open = Eval('state').in_(['lead', 'opportunity'])


def user_employee():
    "The employee the user works as: the context's, else the user's own"
    employee = Transaction().context.get('employee')
    if employee is None:
        user = Pool().get('res.user')(Transaction().user)
        if user.employee:
            employee = user.employee.id
    return employee


class Opportunity(metaclass=PoolMeta):
    __name__ = 'sale.opportunity'

    stage = fields.Selection(STAGES, "Stage", sort=False,
        states={
            'invisible': Eval('state') != 'opportunity',
            'readonly': Eval('state') != 'opportunity',
            },
        help="Where the opportunity stands in the group's project.")
    requirements = fields.Text("Customer Requirements",
        states={'readonly': ~_open})
    expected_monthly_revenue = Monetary("Expected Monthly Revenue",
        currency='currency', digits='currency',
        domain=['OR', ('expected_monthly_revenue', '=', None),
            ('expected_monthly_revenue', '>=', 0)],
        states={'readonly': ~_open})
    one_off_cost = Monetary("One-Off Cost", currency='currency',
        digits='currency',
        domain=['OR', ('one_off_cost', '=', None), ('one_off_cost', '>=', 0)],
        states={'readonly': ~_open},
        help="What the project costs once: equipment, construction, "
        "installation.")
    payback_months = fields.Function(fields.Integer("Payback Months",
            help="The months of expected revenue that pay back the one-off "
            "cost."),
        'on_change_with_payback_months')
    approval_state = fields.Selection(APPROVAL_STATES, "Project Approval",
        readonly=True, sort=False)
    approval_comment = fields.Text("Approval Comment",
        states={'readonly': ~_open},
        help="Recorded with the next approval step, then cleared.")
    approval_steps = fields.One2Many('telecom.group.opportunity.approval',
        'opportunity', "Approval Steps", readonly=True)
    contracts = fields.One2Many('telecom.group.contract', 'opportunity',
        "Contracts", readonly=True)
    renewal_of = fields.Many2One('telecom.group.contract', "Renewal of",
        ondelete='RESTRICT', readonly=True,
        help="The contract whose expiry opened this opportunity.")
    approval_state_string = approval_state.translated('approval_state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.party.domain = [
            *(cls.party.domain or []),
            ('group_customer', '=', True),
            ]
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.renewal_of, Index.Range())))
        cls._buttons.update({
                'submit_approval': {
                    'invisible': ((Eval('state') != 'opportunity')
                        | Eval('approval_state').in_(
                            ['submitted', 'approved'])),
                    'icon': 'tryton-forward',
                    'depends': ['state', 'approval_state'],
                    },
                'approve_project': {
                    'invisible': Eval('approval_state') != 'submitted',
                    'icon': 'tryton-ok',
                    'depends': ['approval_state'],
                    },
                'reject_project': {
                    'invisible': Eval('approval_state') != 'submitted',
                    'icon': 'tryton-cancel',
                    'depends': ['approval_state'],
                    },
                'draft_contract': {
                    'invisible': ((Eval('approval_state') != 'approved')
                        | ~Eval('state').in_(['opportunity', 'converted'])),
                    'icon': 'tryton-forward',
                    'depends': ['approval_state', 'state'],
                    },
                })

    @classmethod
    def default_employee(cls):
        return user_employee()

    @classmethod
    def default_company(cls):
        return default_company()

    @fields.depends('stage', 'conversion_probability')
    def on_change_stage(self):
        if self.stage in STAGE_PROBABILITIES:
            self.conversion_probability = STAGE_PROBABILITIES[self.stage]

    @fields.depends('one_off_cost', 'expected_monthly_revenue')
    def on_change_with_payback_months(self, name=None):
        revenue = self.expected_monthly_revenue
        if self.one_off_cost is None or not revenue or revenue <= 0:
            return None
        return math.ceil(self.one_off_cost / revenue)

    @classmethod
    def copy(cls, opportunities, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('approval_state', None)
        default.setdefault('approval_steps', None)
        default.setdefault('contracts', None)
        default.setdefault('renewal_of', None)
        return super().copy(opportunities, default=default)

    # --- project approval (立项审核) -----------------------------------------

    @classmethod
    def _approval_step(cls, opportunities, action, approval_state):
        "Record the step with its comment and move the approval on"
        Step = Pool().get('telecom.group.opportunity.approval')
        Step.record(opportunities, action)
        cls.write(list(opportunities), {
                'approval_state': approval_state,
                'approval_comment': None,
                })

    @classmethod
    @ModelView.button
    def submit_approval(cls, opportunities):
        "The account manager asks a director to approve the project"
        for opportunity in opportunities:
            if (opportunity.state != 'opportunity'
                    or opportunity.approval_state in {
                        'submitted', 'approved'}):
                states = dict(cls.fields_get(['state'])['state']['selection'])
                raise GroupError(gettext(
                        'crm_group_customer.msg_opportunity_submit_state',
                        opportunity=opportunity.rec_name,
                        state=states[opportunity.state]))
            if not opportunity.expected_monthly_revenue:
                raise GroupError(gettext(
                        'crm_group_customer.msg_opportunity_no_revenue',
                        opportunity=opportunity.rec_name))
        for opportunity in opportunities:
            opportunity.stage = 'approval'
        cls.save(opportunities)
        cls._approval_step(opportunities, 'submitted', 'submitted')

    @classmethod
    def _check_submitted(cls, opportunities):
        for opportunity in opportunities:
            if opportunity.approval_state != 'submitted':
                raise GroupError(gettext(
                        'crm_group_customer.msg_opportunity_not_submitted',
                        opportunity=opportunity.rec_name))

    @classmethod
    @ModelView.button
    def approve_project(cls, opportunities):
        cls._check_submitted(opportunities)
        cls._approval_step(opportunities, 'approved', 'approved')

    @classmethod
    @ModelView.button
    def reject_project(cls, opportunities):
        "Back to the account manager, who may submit it again"
        cls._check_submitted(opportunities)
        for opportunity in opportunities:
            if not opportunity.approval_comment:
                raise GroupError(gettext(
                        'crm_group_customer.msg_opportunity_reject_comment',
                        opportunity=opportunity.rec_name))
        cls._approval_step(opportunities, 'rejected', 'rejected')

    # --- the contract -------------------------------------------------------

    @classmethod
    @ModelView.button_action('crm_group_customer.act_contract_form')
    def draft_contract(cls, opportunities):
        """The approved project becomes a draft contract of its products
        (the one drafted before, if any) and the opportunity is converted"""
        Contract = Pool().get('telecom.group.contract')
        for opportunity in opportunities:
            if opportunity.approval_state != 'approved':
                raise GroupError(gettext(
                        'crm_group_customer.msg_opportunity_not_approved',
                        opportunity=opportunity.rec_name))
        existing = {c.opportunity.id: c for c in Contract.search([
                    ('opportunity', 'in', [o.id for o in opportunities]),
                    ])}
        contracts = [o._get_contract() for o in opportunities
            if o.id not in existing]
        Contract.save(contracts)
        cls._convert_to_contract(
            [o for o in opportunities if o.state == 'opportunity'])
        return {
            'res_id': [c.id for c in list(existing.values()) + contracts],
            }

    @classmethod
    @Workflow.transition('converted')
    def _convert_to_contract(cls, opportunities):
        employee = user_employee()
        if employee:
            cls.write([o for o in opportunities if not o.converted_by], {
                    'converted_by': employee,
                    })

    def _get_contract(self):
        "The draft contract of the opportunity's products"
        pool = Pool()
        Contract = pool.get('telecom.group.contract')
        Line = pool.get('telecom.group.contract.line')
        today = pool.get('ir.date').today()
        contract = Contract(
            group=self.party,
            company=self.company,
            opportunity=self,
            account_manager=self.employee or self.party.account_manager,
            start_date=max(today, self.start_date or today),
            )
        # a year's contract unless agreed otherwise
        start = contract.start_date
        try:
            end = start.replace(year=start.year + 1)
        except ValueError:
            # 29 February
            end = start.replace(year=start.year + 1, day=28)
        contract.end_date = end - dt.timedelta(days=1)
        lines = []
        for line in self.lines:
            product = line.product.template if line.product else None
            if not product or product.telecom_type not in {'group', 'plan'}:
                continue
            lines.append(Line(product=product,
                    quantity=max(1, int(line.quantity or 1)),
                    monthly_fee=product.monthly_fee or 0))
        contract.lines = lines
        return contract


class OpportunityLine(metaclass=PoolMeta):
    __name__ = 'sale.opportunity.line'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # the products of a telecom operator are not sold through sales:
        # any plan, add-on, service or group product may interest a group
        cls.product.domain = [
            ('template.telecom_type', 'in', PRODUCT_TYPES),
            ]

    @fields.depends('product', 'unit')
    def on_change_product(self):
        if self.product and not self.product.sale_uom:
            if not self.unit:
                self.unit = self.product.default_uom
            return
        super().on_change_product()


class OpportunityApproval(ModelSQL, ModelView):
    "A step of an opportunity's project approval: who, when and why"
    __name__ = 'telecom.group.opportunity.approval'

    opportunity = fields.Many2One('sale.opportunity', "Opportunity",
        required=True, ondelete='CASCADE', readonly=True)
    action = fields.Selection([
            ('submitted', "Submitted"),
            ('approved', "Approved"),
            ('rejected', "Rejected"),
            ], "Action", required=True, readonly=True)
    date = fields.DateTime("Date", required=True, readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True,
        ondelete='RESTRICT')
    employee = fields.Many2One('company.employee', "Employee",
        readonly=True, ondelete='RESTRICT')
    company = fields.Many2One('company.company', "Company", readonly=True,
        ondelete='RESTRICT')
    comment = fields.Text("Comment", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('opportunity')
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def record(cls, opportunities, action):
        "One step on each opportunity, with the comment typed on it"
        now = dt.datetime.now()
        user = Transaction().user or None
        employee = user_employee()
        return cls.create([{
                    'opportunity': o.id,
                    'action': action,
                    'date': now,
                    'user': user,
                    'employee': employee,
                    'company': o.company.id,
                    'comment': o.approval_comment,
                    } for o in opportunities])


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    group_opportunities = fields.One2Many('sale.opportunity', 'party',
        "Opportunities", readonly=True,
        states={'invisible': ~Eval('group_customer')})

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('group_opportunities', None)
        return super().copy(parties, default=default)
