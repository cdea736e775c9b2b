"""Revenue of group customers by month: what the bills of their member
lines charged for the cycles the lines were members, and the bills of the
group's own account"""
import datetime as dt

from sql import Literal, Union
from sql.aggregate import Sum
from sql.functions import DateTrunc, Extract

from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from crm_telecom.sql_tools import day_after

# what the group pays of a member's bill: the group's account bills it
# again, so the member's revenue leaves it out
GROUP_PAID_KIND = 'group_paid'
# the months shown on the group's form
FORM_MONTHS = 12


def month_start(date, months_back=0):
    "The first day of the month months_back before date's"
    month = date.year * 12 + date.month - 1 - months_back
    return dt.date(month // 12, month % 12 + 1, 1)


class Revenue(ModelSQL, ModelView):
    __name__ = 'telecom.group.revenue'

    group = fields.Many2One('party.party', "Group", readonly=True)
    company = fields.Many2One('company.company', "Company", readonly=True)
    month = fields.Date("Month", readonly=True,
        help="The month the bill cycles start in.")
    member_amount = Monetary("Members", currency='currency',
        digits='currency', readonly=True,
        help="Bills of the member lines for the cycles they were members, "
        "less what the group pays for them.")
    account_amount = Monetary("Group Account", currency='currency',
        digits='currency', readonly=True,
        help="Bills of the group's own account: group products and what "
        "it pays for its members.")
    amount = Monetary("Revenue", currency='currency', digits='currency',
        readonly=True)
    currency = fields.Many2One('currency.currency', "Currency",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('month', 'DESC'), ('group', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Bill = pool.get('telecom.bill')
        BillLine = pool.get('telecom.bill.line')
        Member = pool.get('telecom.group.member')
        Party = pool.get('party.party')
        Company = pool.get('company.company')
        bill, line = Bill.__table__(), BillLine.__table__()
        member, party = Member.__table__(), Party.__table__()
        account_bill, group = Bill.__table__(), Party.__table__()
        group_party, company = Party.__table__(), Company.__table__()
        zero = Literal(0)

        members = (line
            .join(bill, condition=line.bill == bill.id)
            .join(member, condition=(member.subscriber == line.subscriber)
                & Member.active_in(member, bill.period_start,
                    day_after(bill.period_end)))
            .join(party, condition=member.group == party.id)
            .select(member.group.as_('group'),
                bill.period_start.as_('period_start'),
                line.amount.as_('member_amount'),
                zero.as_('account_amount'),
                where=(line.kind != GROUP_PAID_KIND)
                # lines billed on the group's own account count there
                & ((party.group_account == None)  # noqa: E711
                    | (bill.account != party.group_account))))
        accounts = (account_bill
            .join(group, condition=(account_bill.account
                    == group.group_account)
                & (group.group_customer == True))  # noqa: E712
            .select(group.id.as_('group'),
                account_bill.period_start.as_('period_start'),
                zero.as_('member_amount'),
                account_bill.amount.as_('account_amount')))
        union = Union(members, accounts, all_=True)
        # month and key computed below the grouping: PostgreSQL would not
        # see that the same expression with its own parameters is grouped
        rows = union.select(union.group.as_('group'),
            cls.month.sql_cast(
                DateTrunc('month', union.period_start)).as_('month'),
            ((Extract('YEAR', union.period_start) * 12
                    + Extract('MONTH', union.period_start)).cast('INTEGER')
                - 24000).as_('key'),
            union.member_amount.as_('member_amount'),
            union.account_amount.as_('account_amount'))
        member_amount = cls.member_amount.sql_cast(Sum(rows.member_amount))
        account_amount = cls.account_amount.sql_cast(
            Sum(rows.account_amount))
        return (rows
            .join(group_party, condition=rows.group == group_party.id)
            .join(company, 'LEFT',
                condition=group_party.company == company.id)
            .select(
                (rows.group.cast('BIGINT') * 10000 + rows.key).as_('id'),
                rows.group.as_('group'),
                group_party.company.as_('company'),
                rows.month.as_('month'),
                member_amount.as_('member_amount'),
                account_amount.as_('account_amount'),
                (member_amount + account_amount).as_('amount'),
                company.currency.as_('currency'),
                group_by=[rows.group, group_party.company, company.currency,
                    rows.month, rows.key]))

    def get_rec_name(self, name):
        return '%s %s' % (self.group.rec_name, self.month.strftime('%Y-%m'))

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('group.rec_name',) + tuple(clause[1:])]


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    group_revenues = fields.Function(fields.Many2Many(
            'telecom.group.revenue', None, None, "Revenue by Month",
            readonly=True,
            states={'invisible': ~Eval('group_customer')}),
        'get_group_revenues')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'open_revenue_graph': {
                    'invisible': ~Eval('group_customer'),
                    'depends': ['group_customer'],
                    },
                })

    @classmethod
    @ModelView.button_action('crm_group_customer.act_revenue_form')
    def open_revenue_graph(cls, parties):
        "The group's revenue by month, as a graph"

    @classmethod
    def get_group_revenues(cls, parties, name):
        pool = Pool()
        Revenue = pool.get('telecom.group.revenue')
        Date = pool.get('ir.date')
        result = {p.id: [] for p in parties}
        ids = [p.id for p in parties if p.group_customer]
        if ids:
            since = month_start(Date.today(), FORM_MONTHS - 1)
            for revenue in Revenue.search([
                        ('group', 'in', ids),
                        ('month', '>=', since),
                        ], order=[('month', 'DESC')]):
                result[revenue.group.id].append(revenue.id)
        return result
