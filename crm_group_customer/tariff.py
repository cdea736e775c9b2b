"""Group tariffs: the discounts a group gets on plans, add-ons, services and
group products, each applying once its approval steps are all approved"""
from sql import Null

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction

from crm_telecom.company import company_currency, default_company

from .exceptions import GroupError, GroupValidationError

TARIFF_PRODUCT_TYPES = ['plan', 'addon', 'vas', 'group']
LINE_STATES = [
    ('draft', "Draft"),
    ('pending', "Pending Approval"),
    ('approved', "Approved"),
    ('rejected', "Rejected"),
    ]


class Tariff(ModelSQL, ModelView):
    "Group tariff: a group's personalised discounts for a period"
    __name__ = 'telecom.group.tariff'

    group = fields.Many2One('party.party', "Group", required=True,
        ondelete='CASCADE', domain=[('group_customer', '=', True)],
        states={'readonly': Eval('state') != 'draft'})
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', states={'readonly': True})
    name = fields.Char("Name", required=True)
    valid_from = fields.Date("Valid From", required=True)
    valid_to = fields.Date("Valid To",
        domain=['OR', ('valid_to', '=', None),
            ('valid_to', '>=', Eval('valid_from', None))],
        help="Last day the tariff applies; empty: until further notice.")
    monthly_amount = Monetary("Monthly Amount", currency='currency',
        digits='currency', required=True,
        domain=[('monthly_amount', '>=', 0)],
        help="The deal's expected monthly revenue: with the depth of each "
        "discount, it says who approves it.")
    lines = fields.One2Many('telecom.group.tariff.line', 'tariff', "Lines")
    approvals = fields.One2Many('telecom.group.tariff.approval', 'tariff',
        "Approval Steps", readonly=True)
    state = fields.Function(fields.Selection(LINE_STATES, "State"),
        'get_state')
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('group', 'ASC'), ('valid_from', 'DESC'),
            ('id', 'DESC')]
        cls._buttons.update({
                'submit': {
                    'invisible': ~Eval('state').in_(['draft', 'rejected']),
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
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
    def default_company(cls):
        return default_company()

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_valid_from(cls):
        return Pool().get('ir.date').today()

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return company_currency(self.company)

    @fields.depends('group', '_parent_group.company', 'company')
    def on_change_group(self):
        if self.group and getattr(self.group, 'company', None):
            self.company = self.group.company

    def get_state(self, name):
        "Pending while a line waits; approved when every line is"
        states = {l.state for l in self.lines}
        for state in ['pending', 'draft', 'rejected']:
            if state in states:
                return state
        return 'approved' if states else 'draft'

    def get_rec_name(self, name):
        return '%s: %s' % (self.group.rec_name, self.name)

    @classmethod
    def validate_fields(cls, tariffs, field_names):
        super().validate_fields(tariffs, field_names)
        if field_names is None or field_names & {
                'group', 'valid_from', 'valid_to'}:
            Line = Pool().get('telecom.group.tariff.line')
            Line.check_overlap([l for t in tariffs for l in t.lines])

    @classmethod
    def copy(cls, tariffs, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('approvals', None)
        return super().copy(tariffs, default=default)

    @classmethod
    @ModelView.button
    def submit(cls, tariffs):
        "Ask for the approval of the new and changed lines"
        Line = Pool().get('telecom.group.tariff.line')
        Line.submit([l for t in tariffs for l in t.lines])

    @classmethod
    def _steps_of_user(cls, tariffs):
        Approval = Pool().get('telecom.group.tariff.approval')
        steps = Approval.search([
                ('tariff', 'in', [t.id for t in tariffs]),
                ('state', '=', 'pending'),
                ])
        if not steps:
            raise GroupError(gettext(
                    'crm_group_customer.msg_tariff_nothing_pending',
                    tariff=', '.join(t.rec_name for t in tariffs)))
        # the steps the user may act on: lines at other levels wait
        allowed, refused = [], None
        for step in steps:
            try:
                step.check_approver()
            except GroupError as exception:
                refused = refused or exception
            else:
                allowed.append(step)
        if not allowed:
            raise refused
        return allowed

    @classmethod
    @ModelView.button
    def approve(cls, tariffs):
        "Approve the current steps of the tariffs' lines"
        Approval = Pool().get('telecom.group.tariff.approval')
        Approval.approve(cls._steps_of_user(tariffs))

    @classmethod
    @ModelView.button
    def reject(cls, tariffs):
        Approval = Pool().get('telecom.group.tariff.approval')
        Approval.reject(cls._steps_of_user(tariffs))


class TariffLine(ModelSQL, ModelView):
    "Group tariff line: the discount on one product"
    __name__ = 'telecom.group.tariff.line'

    tariff = fields.Many2One('telecom.group.tariff', "Tariff",
        required=True, ondelete='CASCADE')
    product = fields.Many2One('product.template', "Product", required=True,
        ondelete='RESTRICT',
        domain=[('telecom_type', 'in', TARIFF_PRODUCT_TYPES)],
        states={'readonly': (Eval('state') != 'draft')
            | Bool(Eval('approved_discount'))})
    discount = fields.Numeric("Discount (%)", digits=(5, 2), required=True,
        domain=[('discount', '>=', 0), ('discount', '<=', 100)],
        states={'readonly': Eval('state') == 'pending'})
    approved_discount = fields.Numeric("Approved Discount (%)",
        digits=(5, 2), readonly=True,
        help="The discount that applies on the bills; empty until approved.")
    state = fields.Selection(LINE_STATES, "State", required=True,
        readonly=True, sort=False)
    approvals = fields.One2Many('telecom.group.tariff.approval', 'line',
        "Approval Steps", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('tariff')
        cls._order = [('tariff', 'ASC'), ('id', 'ASC')]
        t = cls.__table__()
        # the bill run finds the approved discounts of the products it bills
        cls._sql_indexes.add(Index(t, (t.product, Index.Range()),
                where=t.approved_discount != Null))

    @classmethod
    def default_state(cls):
        return 'draft'

    def get_rec_name(self, name):
        return '%s: %s %s%%' % (self.tariff.rec_name, self.product.rec_name,
            self.discount)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            values.setdefault('state', 'draft')
            values['approved_discount'] = None
        return values

    @classmethod
    def on_modification(cls, mode, lines, field_names=None):
        super().on_modification(mode, lines, field_names=field_names)
        if mode == 'write' and field_names and 'discount' in field_names:
            # a changed discount asks for approval again; back to the one
            # approved, the line is approved as it was
            changed = {'draft': [], 'approved': []}
            for line in lines:
                if line.state == 'pending':
                    continue
                state = ('approved' if line.approved_discount is not None
                    and line.discount == line.approved_discount else 'draft')
                if line.state != state:
                    changed[state].append(line)
            for state, records in changed.items():
                if records:
                    cls.write(records, {'state': state})

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        if mode == 'delete':
            for line in lines:
                if line.state == 'pending':
                    raise GroupError(gettext(
                            'crm_group_customer.msg_tariff_line_pending',
                            line=line.rec_name))

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        if field_names is None or field_names & {
                'tariff', 'product', 'approved_discount', 'state'}:
            cls.check_overlap(lines)

    @classmethod
    def check_overlap(cls, lines):
        """One applying (approved) line per group and product at a time;
        a line waiting for approval counts as well"""
        for line in lines:
            if line.approved_discount is None and line.state != 'pending':
                continue
            tariff = line.tariff
            domain = [
                ('id', '!=', line.id),
                ('product', '=', line.product.id),
                ('tariff.group', '=', tariff.group.id),
                ['OR',
                    ('approved_discount', '!=', None),
                    ('state', '=', 'pending')],
                ['OR', ('tariff.valid_to', '=', None),
                    ('tariff.valid_to', '>=', tariff.valid_from)],
                ]
            if tariff.valid_to:
                domain.append(('tariff.valid_from', '<=', tariff.valid_to))
            others = cls.search(domain, limit=1)
            if others:
                raise GroupValidationError(gettext(
                        'crm_group_customer.msg_tariff_line_overlap',
                        product=line.product.rec_name,
                        group=tariff.group.rec_name,
                        tariff=others[0].tariff.rec_name))

    @classmethod
    def submit(cls, lines):
        """Approval steps, from the matrix, for the lines that are new or
        whose discount is not the approved one; the others stay as they
        are"""
        pool = Pool()
        Rule = pool.get('telecom.group.approval.rule')
        Approval = pool.get('telecom.group.tariff.approval')
        user = Transaction().user or None
        to_submit = [l for l in lines if l.state in {'draft', 'rejected'}
            and l.discount != l.approved_discount]
        steps = []
        for line in to_submit:
            levels = Rule.levels_for(line.discount,
                line.tariff.monthly_amount)
            for i, level in enumerate(levels):
                steps.append({
                        'tariff': line.tariff.id,
                        'line': line.id,
                        'discount': line.discount,
                        'level': level,
                        'sequence': i + 1,
                        'state': 'pending' if not i else 'waiting',
                        'submitted_by': user,
                        })
        if not to_submit:
            return
        cls.write(to_submit, {'state': 'pending'})
        Approval.create(steps)

    @classmethod
    def approved(cls, lines):
        "Every step approved: the discount applies"
        for line in lines:
            line.approved_discount = line.discount
            line.state = 'approved'
        cls.save(lines)

    @classmethod
    def rejected(cls, lines):
        cls.write(lines, {'state': 'rejected'})


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    group_tariffs = fields.One2Many('telecom.group.tariff', 'group',
        "Group Tariffs", states={'invisible': ~Eval('group_customer')})

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('group_tariffs', None)
        return super().copy(parties, default=default)
