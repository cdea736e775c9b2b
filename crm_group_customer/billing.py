"""Groups on the bills, written by the bill run in SQL with the rest of a
batch: the group products' fees on the group's account, the approved
group tariffs' discounts on the fee lines, and the group's payment of its
members' charges (集团统付), which the group's account is charged through
an adjustment billed on its next bill"""
from sql import Literal, Null, Union
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce, Greatest, Least
from sql.functions import CurrentTimestamp
from sql.operators import Concat

from trytond.i18n import gettext
from trytond.model import Index, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_billing.bill import FEE_KINDS
from crm_billing.rating import (
    NONE,
    NULL_INT,
    cents,
    from_cents,
    half_up_div,
)
from crm_telecom.money import format_money
from crm_telecom.sql_tools import days_between, execute_planned, in_ids

GROUP_KINDS = [
    ('group_product', "Group Product Fee"),
    ('group_discount', "Group Tariff Discount"),
    ]
GROUP_PAID_KIND = ('group_paid', "Paid by Group")
SEQUENCES = {'group_product': 32, 'group_discount': 35, 'group_paid': 95}
# the line columns the group lines write
COLUMNS = ['bill', 'subscriber', 'sequence', 'kind', 'late', 'product',
    'start_date', 'end_date', 'days', 'cycle_days', 'quantity', 'rate',
    'amount', 'discount_rate', 'group_tariff_line', 'group_product',
    'group_member']
# typed NULL for the UNION of discount lines
NULL_NUMERIC = Literal(None).cast('NUMERIC')
# more than any payment cap, in cents
NO_CAP = 10 ** 15


class BillLine(metaclass=PoolMeta):
    __name__ = 'telecom.bill.line'

    group_tariff_line = fields.Many2One('telecom.group.tariff.line',
        "Group Tariff Line", readonly=True, ondelete='RESTRICT')
    discount_rate = fields.Numeric("Discount (%)", digits=(5, 2),
        readonly=True)
    group_product = fields.Many2One('telecom.group.product',
        "Group Product", readonly=True, ondelete='RESTRICT')
    group_member = fields.Many2One('telecom.group.member', "Group Member",
        readonly=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # written by the bill run from rows it joins, like the others
        cls._unchecked_references = cls._unchecked_references | {
            'group_tariff_line', 'group_product', 'group_member'}
        selection = [k for k in cls.kind.selection
            if k[0] not in dict(GROUP_KINDS + [GROUP_PAID_KIND])]
        position = [k for k, _ in selection].index('vas_fee') + 1
        selection[position:position] = GROUP_KINDS
        selection.append(GROUP_PAID_KIND)
        cls.kind.selection = selection
        t = cls.__table__()
        # the run's end adds up its group payments per group
        cls._sql_indexes.add(Index(t, (t.bill, Index.Range()),
                where=t.kind == 'group_paid'))

    def get_description(self, name):
        amount = format_money(self.amount)
        if self.kind == 'group_product':
            return gettext('crm_group_customer.msg_line_group_product',
                product=self.product.rec_name, quantity=self.quantity,
                rate=format_money(self.rate), days=self.days,
                cycle_days=self.cycle_days, amount=amount)
        if self.kind == 'group_discount':
            line = self.group_tariff_line
            return gettext('crm_group_customer.msg_line_group_discount',
                tariff=line.tariff.rec_name if line else '',
                discount=self.discount_rate,
                product=self.product.rec_name if self.product else '',
                amount=amount)
        if self.kind == 'group_paid':
            member = self.group_member
            return gettext('crm_group_customer.msg_line_group_paid',
                group=member.group.rec_name if member else '',
                amount=amount)
        return super().get_description(name)


class Adjustment(metaclass=PoolMeta):
    __name__ = 'telecom.bill.adjustment'

    group = fields.Many2One('party.party', "Paid for Group", readonly=True,
        ondelete='RESTRICT',
        help="The group customer whose payment of its members' charges "
        "(集团统付) this adjustment charges to the group's account.")
    group_run = fields.Many2One('telecom.bill.run', "Group Payment Run",
        readonly=True, ondelete='RESTRICT',
        help="The bill run whose members' bills the group paid.")
    group_paid_lines = fields.Function(fields.Many2Many('telecom.bill.line',
            None, None, "Members' Lines Paid",
            states={'invisible': ~Eval('group_run')}),
        'get_group_paid_lines')

    @classmethod
    def get_group_paid_lines(cls, adjustments, name):
        "The members' group_paid lines the adjustment adds up"
        pool = Pool()
        Line = pool.get('telecom.bill.line')
        line = Line.__table__()
        bill = pool.get('telecom.bill').__table__()
        member = pool.get('telecom.group.member').__table__()
        lines = {a.id: [] for a in adjustments}
        keys = {(a.group_run.id, a.group.id): a.id for a in adjustments
            if a.group_run and a.group}
        cursor = Transaction().connection.cursor()
        for sub_keys in grouped_slice(list(keys), 1000):
            sub_keys = list(sub_keys)
            cursor.execute(*line.join(bill, condition=bill.id == line.bill
                    ).join(member, condition=member.id == line.group_member
                    ).select(bill.run, member.group, line.id,
                    where=(line.kind == 'group_paid')
                    & in_ids(bill.run, sorted({r for r, _ in sub_keys}))
                    & in_ids(member.group, sorted({g for _, g in sub_keys})),
                    order_by=[line.bill, line.id]))
            for run, group, line_id in cursor:
                if (run, group) in keys:
                    lines[keys[run, group]].append(line_id)
        return lines


class BillRun(metaclass=PoolMeta):
    __name__ = 'telecom.bill.run'

    @classmethod
    @Workflow.transition('done')
    def finish(cls, runs):
        cls._charge_groups(runs)
        super().finish(runs)

    @classmethod
    def _charge_groups(cls, runs):
        """One approved adjustment per group and run charges the group's
        account what it paid of its members' bills (集团统付); its next
        bill bills it. Written once the run's bills are all in, whichever
        batch or worker billed each member"""
        pool = Pool()
        adjustment = pool.get('telecom.bill.adjustment').__table__()
        bill = pool.get('telecom.bill').__table__()
        line = pool.get('telecom.bill.line').__table__()
        member = pool.get('telecom.group.member').__table__()
        party = pool.get('party.party').__table__()
        cursor = Transaction().connection.cursor()
        user = Transaction().user or None
        columns = ['account', 'amount', 'reason', 'state', 'requested_by',
            'approved_by', 'approved_at', 'group', 'group_run',
            'create_uid', 'create_date']
        for run in runs:
            cycle = '%s ~ %s' % (run.period_start, run.period_end)
            # the text once, the count filled in by the statement
            before, after = gettext(
                'crm_group_customer.msg_group_paid_reason',
                count='\x00', cycle=cycle).split('\x00')
            query = line.join(bill, condition=bill.id == line.bill
                ).join(member, condition=member.id == line.group_member
                ).join(party, condition=party.id == member.group
                ).select(party.group_account,
                from_cents(-Sum(cents(line.amount))),
                Concat(Concat(before, Count(line.id).cast('VARCHAR')), after),
                Literal('approved'), Literal(user), Literal(user),
                CurrentTimestamp(), party.id, Literal(run.id),
                Literal(user), CurrentTimestamp(),
                where=(bill.run == run.id) & (line.kind == 'group_paid')
                & (party.group_account != Null),
                group_by=[party.id, party.group_account])
            execute_planned(cursor, adjustment.insert(
                    [getattr(adjustment, c) for c in columns], query))

    @classmethod
    def _rating_class(cls):
        base = super()._rating_class()
        if base not in _RATINGS:
            _RATINGS[base] = type('GroupRating', (GroupRatingMixin, base), {})
        return _RATINGS[base]


_RATINGS = {}


class GroupRatingMixin:
    "The group lines of a batch's bills"

    def _insert_extra_lines(self):
        super()._insert_extra_lines()
        self._insert_group_products()
        self._insert_group_discounts()
        self._insert_group_payments()

    def _insert_group_lines(self, query):
        line = self.line_table
        cursor = Transaction().connection.cursor()
        execute_planned(cursor, line.insert(
                [getattr(line, c) for c in COLUMNS]
                + [line.create_uid, line.create_date], query))
        self.lines_written += max(cursor.rowcount, 0)

    def _bill_ids(self):
        return list(self.bill_ids.values())

    def _group_products(self):
        """The group products of the batch's group accounts with days in
        the cycle, clipped to it: (bill, group_product, group, product,
        quantity, monthly_fee, start_date, end_date)"""
        pool = Pool()
        party = pool.get('party.party').__table__()
        product = pool.get('telecom.group.product').__table__()
        bills = self._bills()
        return party.join(bills, condition=bills.column1 == party.group_account
            ).join(product, condition=product.group == party.id
            ).select(bills.column2.as_('bill'),
            product.id.as_('group_product'), product.group.as_('group'),
            product.product.as_('product'), product.quantity.as_('quantity'),
            product.monthly_fee.as_('monthly_fee'),
            Greatest(product.start_date, self.start).as_('start_date'),
            Least(Coalesce(product.end_date, self.end), self.end
                ).as_('end_date'),
            where=in_ids(party.group_account, self.account_ids)
            & product.state.in_(['active', 'ended'])
            & (product.start_date < self.end)
            & ((product.end_date == Null) | (product.end_date > self.start)))

    def _insert_group_products(self):
        "Group product fees on the group's account, prorated by days"
        products = self._group_products()
        days = days_between(products.end_date, products.start_date)
        # BIGINT: a dedicated line's fee in cents times units and days
        fee = half_up_div(cents(products.monthly_fee).cast('BIGINT')
            * products.quantity * days, self.cycle_days)
        self._insert_group_lines(products.select(products.bill, NULL_INT,
                Literal(SEQUENCES['group_product']), Literal('group_product'),
                Literal(False), products.product, products.start_date,
                products.end_date, days, Literal(self.cycle_days),
                products.quantity, products.monthly_fee, from_cents(fee),
                NONE, NULL_INT, products.group_product, NULL_INT,
                *self._stamp(),
                where=days > 0))

    def _tariff_lines(self):
        """The approved tariff lines valid in the cycle: (tariff_line,
        group, product, discount)"""
        pool = Pool()
        tariff = pool.get('telecom.group.tariff').__table__()
        tariff_line = pool.get('telecom.group.tariff.line').__table__()
        return tariff_line.join(tariff,
            condition=tariff.id == tariff_line.tariff
            ).select(tariff_line.id.as_('tariff_line'),
            tariff.group.as_('group'), tariff_line.product.as_('product'),
            tariff_line.approved_discount.as_('discount'),
            where=(tariff_line.approved_discount != Null)
            & (tariff_line.approved_discount > 0)
            & (tariff.valid_from < self.end)
            & ((tariff.valid_to == Null) | (tariff.valid_to >= self.start)))

    def _discount_columns(self, fee, tariff):
        "A discount line's columns for a fee line and its tariff line"
        amount = half_up_div(cents(fee.amount).cast('BIGINT')
            * cents(tariff.discount), 10000)
        return [fee.bill, fee.subscriber, Literal(SEQUENCES['group_discount']),
            Literal('group_discount'), Literal(False), fee.product,
            fee.start_date, fee.end_date, fee.days, fee.cycle_days, NULL_INT,
            NULL_NUMERIC, from_cents(-amount), tariff.discount, tariff.tariff_line,
            fee.group_product, NULL_INT, *self._stamp()]

    def _insert_group_discounts(self):
        """A discount line per fee line of a member (active in the cycle)
        and per group product line whose product has an approved tariff of
        its group"""
        pool = Pool()
        Member = pool.get('telecom.group.member')
        member = Member.__table__()
        product = pool.get('telecom.group.product').__table__()
        bill_ids = self._bill_ids()
        fee = self.line_table
        tariffs = self._tariff_lines()
        # the batch's lines' memberships, through the index on the line
        of_members = fee.join(member,
            condition=(member.subscriber == fee.subscriber)
            & self._in_lines(member.subscriber)
            & Member.active_in(member, self.start, self.end)
            ).join(tariffs, condition=(tariffs.group == member.group)
                & (tariffs.product == fee.product)
            ).select(*self._discount_columns(fee, tariffs),
            where=in_ids(fee.bill, bill_ids)
            & fee.kind.in_(sorted(FEE_KINDS)))
        fee = pool.get('telecom.bill.line').__table__()
        tariffs = self._tariff_lines()
        of_groups = fee.join(product,
            condition=product.id == fee.group_product
            ).join(tariffs, condition=(tariffs.group == product.group)
                & (tariffs.product == fee.product)
            ).select(*self._discount_columns(fee, tariffs),
            where=in_ids(fee.bill, bill_ids)
            & (fee.kind == 'group_product'))
        self._insert_group_lines(Union(of_members, of_groups,
                all_=True).select())

    def _insert_group_payments(self):
        """The group pays its paying members' charges on this bill, after
        discounts and up to the member's cap; the group's account is
        charged as much by an approved adjustment"""
        pool = Pool()
        Member = pool.get('telecom.group.member')
        member = Member.__table__()
        party = pool.get('party.party').__table__()
        line = self.line_table
        totals = line.join(member,
            condition=(member.subscriber == line.subscriber)
            & self._in_lines(member.subscriber)
            & (member.paid_by_group == Literal(True))
            & Member.active_in(member, self.start, self.end)
            ).join(party, condition=(party.id == member.group)
                & (party.group_account != Null)
            ).select(line.bill.as_('bill'), line.subscriber.as_('subscriber'),
            member.id.as_('member'),
            cents(Sum(line.amount)).as_('total'),
            Case((member.payment_cap == Null, NO_CAP),
                else_=cents(member.payment_cap)).as_('cap'),
            where=in_ids(line.bill, self._bill_ids()),
            group_by=[line.bill, line.subscriber, member.id,
                member.payment_cap])
        share = Least(Greatest(totals.total, 0), totals.cap)
        self._insert_group_lines(totals.select(totals.bill,
                totals.subscriber, Literal(SEQUENCES['group_paid']),
                Literal('group_paid'), Literal(False), NULL_INT, NONE, NONE,
                NULL_INT, NULL_INT, NULL_INT, NONE, from_cents(-share), NONE,
                NULL_INT, NULL_INT, totals.member, *self._stamp(),
                where=share > 0))
