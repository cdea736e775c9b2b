"""Members of a group: lines that belong to it, for its tariffs and its
payment of their charges (集团统付)"""
from sql import Null
from sql.operators import Equal, Exists

from trytond.i18n import gettext
from trytond.model import (
    Exclude,
    Index,
    ModelSQL,
    ModelView,
    Workflow,
    fields,
)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval

from crm_telecom.company import company_currency, default_company

from .exceptions import GroupValidationError

ORIGINS = [
    ('manual', "Added by Hand"),
    ('order', "Group Order"),
    ('import', "Imported"),
    ]
_left = Eval('state') == 'left'


class Member(Workflow, ModelSQL, ModelView):
    __name__ = 'telecom.group.member'

    group = fields.Many2One('party.party', "Group", required=True,
        ondelete='CASCADE', domain=[('group_customer', '=', True)],
        states={'readonly': Eval('id', -1) >= 0})
    subscriber = fields.Many2One('telecom.subscriber', "Line",
        required=True, ondelete='RESTRICT',
        states={'readonly': Eval('id', -1) >= 0})
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', states={'readonly': True})
    start_date = fields.Date("Joined", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    end_date = fields.Date("Left", readonly=True,
        help="The group's tariffs end for the line from the next bill "
        "cycle after this day.")
    state = fields.Selection([
            ('active', "Active"),
            ('left', "Left"),
            ], "State", readonly=True, required=True)
    origin = fields.Selection(ORIGINS, "Added By", readonly=True,
        required=True)
    paid_by_group = fields.Boolean("Paid by Group",
        states={'readonly': _left},
        help="The group's account pays this line's charges (集团统付), "
        "up to the monthly cap when one is set.")
    payment_cap = Monetary("Monthly Cap", currency='currency',
        digits='currency',
        domain=['OR', ('payment_cap', '=', None), ('payment_cap', '>', 0)],
        states={
            'invisible': ~Eval('paid_by_group', False),
            'readonly': _left,
            },
        help="The most the group pays of the line's bill each month; "
        "empty: all of it. The line's own account pays the rest.")
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('subscriber_active_unique',
                Exclude(t, (t.subscriber, Equal),
                    where=t.state == 'active'),
                'crm_group_customer.msg_member_active_unique'),
            ]
        # the bill run finds the memberships of the lines it bills
        cls._sql_indexes.add(Index(t, (t.subscriber, Index.Range())))
        cls._order = [('group', 'ASC'), ('start_date', 'DESC'),
            ('id', 'DESC')]
        cls._transitions |= {('active', 'left')}
        cls._buttons.update({
                'leave': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return default_company()

    @classmethod
    def default_start_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_state(cls):
        return 'active'

    @classmethod
    def default_origin(cls):
        return 'manual'

    @classmethod
    def default_paid_by_group(cls):
        return False

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return company_currency(self.company)

    def get_rec_name(self, name):
        return '%s @ %s' % (self.subscriber.rec_name, self.group.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('subscriber.rec_name',) + tuple(clause[1:]),
            ('group.rec_name',) + tuple(clause[1:]),
            ]

    @classmethod
    def validate_fields(cls, members, field_names):
        super().validate_fields(members, field_names)
        if field_names is None or field_names & {
                'group', 'subscriber', 'company'}:
            cls.check_company(members)

    @classmethod
    def check_company(cls, members):
        "A group's members are lines of the group's own company"
        for member in members:
            if member.subscriber.company != member.company:
                raise GroupValidationError(gettext(
                        'crm_group_customer.msg_member_other_company',
                        number=member.subscriber.rec_name,
                        group=member.group.rec_name))
            if (member.group.company
                    and member.group.company != member.company):
                raise GroupValidationError(gettext(
                        'crm_group_customer.msg_member_other_company',
                        number=member.subscriber.rec_name,
                        group=member.group.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('left')
    def leave(cls, members):
        "The line leaves the group today"
        today = Pool().get('ir.date').today()
        cls.write(members, {'end_date': today, 'paid_by_group': False})

    @classmethod
    def active_in(cls, table, start, end):
        """SQL condition: the membership counting for the bill cycle
        [start, end): it began before the cycle's end and had not ended
        before the cycle began (leaving ends the tariffs from the next
        cycle); of a line's memberships in the cycle, only the last one
        begun counts (a line is in one group per bill)"""
        later = cls.__table__()
        return (cls._in_cycle(table, start, end)
            & ~Exists(later.select(later.id,
                    where=(later.subscriber == table.subscriber)
                    & cls._in_cycle(later, start, end)
                    & ((later.start_date > table.start_date)
                        | ((later.start_date == table.start_date)
                            & (later.id > table.id))))))

    @staticmethod
    def _in_cycle(table, start, end):
        return ((table.start_date < end)
            & ((table.end_date == Null) | (table.end_date >= start)))
