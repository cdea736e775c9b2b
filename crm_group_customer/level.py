"""Value levels of group customers: rules set in the client match each
group's average monthly revenue of the last three months, its active
members and its active group products"""
from collections import defaultdict
from decimal import Decimal

from sql import Null
from sql.aggregate import Count, Sum
from sql.operators import Equal

from trytond.model import (
    Exclude,
    ModelSQL,
    ModelView,
    fields,
    sequence_ordered,
)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.sql_tools import clear_cache, in_ids

from .group import VALUE_LEVELS
from .revenue import month_start

REVENUE_MONTHS = 3


class LevelRule(sequence_ordered(), ModelSQL, ModelView):
    __name__ = 'telecom.group.level_rule'

    level = fields.Selection([l for l in VALUE_LEVELS if l[0]],
        "Level", required=True, sort=False)
    min_revenue = fields.Numeric("Minimum Monthly Revenue", digits=(16, 2),
        domain=['OR', ('min_revenue', '=', None), ('min_revenue', '>=', 0)],
        help="The average monthly revenue of the last three full months.")
    min_members = fields.Integer("Minimum Active Members",
        domain=['OR', ('min_members', '=', None), ('min_members', '>=', 0)])
    min_products = fields.Integer("Minimum Active Group Products",
        domain=['OR', ('min_products', '=', None),
            ('min_products', '>=', 0)])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('sequence_level_unique',
                Exclude(t, (t.sequence, Equal), (t.level, Equal)),
                'crm_group_customer.msg_level_rule_unique'),
            ]

    def match(self, revenue, members, products):
        return ((self.min_revenue is None or revenue >= self.min_revenue)
            and (self.min_members is None or members >= self.min_members)
            and (self.min_products is None
                or products >= self.min_products))


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'compute_value_level': {
                    'invisible': ~Eval('group_customer', False),
                    'depends': ['group_customer'],
                    },
                })

    @classmethod
    @ModelView.button
    def compute_value_level(cls, parties):
        cls.compute_value_levels([p for p in parties if p.group_customer])

    @classmethod
    def value_level_figures(cls, group_ids=None, date=None):
        """{group id: (average monthly revenue, active members, active
        products)} of the groups (all when None), three queries"""
        pool = Pool()
        Revenue = pool.get('telecom.group.revenue')
        Member = pool.get('telecom.group.member')
        Product = pool.get('telecom.group.product')
        Date = pool.get('ir.date')
        party = cls.__table__()
        cursor = Transaction().connection.cursor()
        date = date or Date.today()
        start, end = (month_start(date, REVENUE_MONTHS),
            month_start(date))

        def of_groups(column):
            where = party.group_customer == True  # noqa: E712
            if group_ids is not None:
                where &= in_ids(party.id, group_ids)
            return column.in_(party.select(party.id, where=where))

        figures = defaultdict(lambda: [Decimal(0), 0, 0])
        revenue = Revenue.__table__()
        cursor.execute(*revenue.select(revenue.group, Sum(revenue.amount),
                where=of_groups(revenue.group)
                & (revenue.month >= start) & (revenue.month < end),
                group_by=[revenue.group]))
        for group, amount in cursor:
            figures[group][0] = (Decimal(str(amount or 0))
                / REVENUE_MONTHS).quantize(Decimal('0.01'))
        member = Member.__table__()
        cursor.execute(*member.select(member.group, Count(member.id),
                where=of_groups(member.group) & (member.state == 'active'),
                group_by=[member.group]))
        for group, count in cursor:
            figures[group][1] = count
        product = Product.__table__()
        cursor.execute(*product.select(product.group, Count(product.id),
                where=of_groups(product.group)
                & (product.state == 'active'),
                group_by=[product.group]))
        for group, count in cursor:
            figures[group][2] = count
        return figures

    @classmethod
    def compute_value_levels(cls, groups=None, date=None):
        """Set the value level of the groups (all when None) to the level
        of the first rule they match (none when they match none)"""
        pool = Pool()
        Rule = pool.get('telecom.group.level_rule')
        party = cls.__table__()
        cursor = Transaction().connection.cursor()
        if groups is not None:
            group_ids = [g.id for g in groups]
            if not group_ids:
                return
        else:
            group_ids = None
        rules = Rule.search([])
        figures = cls.value_level_figures(group_ids, date=date)
        if group_ids is None:
            cursor.execute(*party.select(party.id,
                    where=party.group_customer == True))  # noqa: E712
            group_ids = [i for i, in cursor]
        by_level = defaultdict(list)
        for group_id in group_ids:
            revenue, members, products = figures.get(
                group_id, (Decimal(0), 0, 0))
            level = next((r.level for r in rules
                    if r.match(revenue, members, products)), None)
            by_level[level].append(group_id)
        for level, ids in by_level.items():
            for sub_ids in grouped_slice(ids, 10000):
                sub_ids = list(sub_ids)
                where = in_ids(party.id, sub_ids)
                where &= ((party.value_level != Null) if level is None
                    else ((party.value_level != level)
                        | (party.value_level == Null)))
                cursor.execute(*party.update([party.value_level],
                        [level if level is not None else Null],
                        where=where))
        clear_cache(cls)
