"Visits of account managers to their group customers"
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from crm_telecom.company import default_company

VISIT_KINDS = [
    ('pre_sale', "Pre-Sale"),
    ('regular', "Regular"),
    ('care', "Care"),
    ('complaint', "Complaint Follow-Up"),
    ]


class Visit(ModelSQL, ModelView):
    __name__ = 'telecom.group.visit'

    group = fields.Many2One('party.party', "Group", required=True,
        ondelete='CASCADE', domain=[('group_customer', '=', True)])
    contact = fields.Many2One('telecom.group.contact', "Contact",
        ondelete='SET NULL', domain=[('group', '=', Eval('group', -1))])
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', states={'readonly': True})
    employee = fields.Many2One('company.employee', "Visited By",
        required=True, ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))])
    date = fields.Date("Date", required=True)
    kind = fields.Selection(VISIT_KINDS, "Kind", required=True, sort=False)
    purpose = fields.Char("Purpose", required=True)
    outcome = fields.Text("Outcome")
    next_step = fields.Char("Next Step")
    next_date = fields.Date("Next Date",
        domain=['OR', ('next_date', '=', None),
            ('next_date', '>=', Eval('date', None))])
    opportunity = fields.Many2One('sale.opportunity', "Opportunity",
        ondelete='SET NULL',
        domain=[('party', '=', Eval('group', -1))],
        states={'invisible': Eval('kind') != 'pre_sale'},
        help="The pre-sale opportunity the visit worked on.")
    care = fields.Many2One('telecom.group.care', "Care Reminder",
        ondelete='SET NULL',
        domain=[('group', '=', Eval('group', -1))],
        states={'invisible': Eval('kind') != 'care'},
        help="The reminder this care visit answers; empty: the group's "
        "open reminders around the visit's day.")
    kind_string = kind.translated('kind')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_company(cls):
        return default_company()

    @classmethod
    def default_employee(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_kind(cls):
        return 'regular'

    @fields.depends('group', 'company')
    def on_change_group(self):
        if self.group and self.group.company:
            self.company = self.group.company

    def get_rec_name(self, name):
        return '%s %s (%s)' % (self.date, self.group.rec_name,
            self.kind_string)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('group.rec_name',) + tuple(clause[1:])]

    @classmethod
    def on_modification(cls, mode, visits, field_names=None):
        super().on_modification(mode, visits, field_names=field_names)
        if mode == 'create':
            Pool().get('telecom.group.care').close_by_visits(
                [v for v in visits if v.kind == 'care'])


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    group_visits = fields.One2Many('telecom.group.visit', 'group',
        "Visits", readonly=True,
        states={'invisible': ~Eval('group_customer')})

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('group_visits', None)
        return super().copy(parties, default=default)
