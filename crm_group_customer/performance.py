"""Account managers' performance over a period: their groups' revenue and
its growth, new members, opportunities won, visits made and complaints
from their groups; and the Excel lists of it and of the group customers.

Each figure is one grouped query over every manager shown (by the groups'
current account manager), not a query per manager. Revenue counts whole
months (those the period's days fall in) and grows against as many
months just before; the other figures count the days of the period."""
import datetime as dt
from decimal import Decimal

from sql import Literal, Null, Union
from sql.aggregate import Count, Sum
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction

from crm_telecom.company import default_company
from crm_telecom.excel import Column, XlsxReport
from crm_telecom.sql_tools import in_ids

from .exceptions import GroupError
from .revenue import month_start

FIGURES = ['revenue', 'previous_revenue', 'growth', 'new_members',
    'opportunities_won', 'visits', 'complaints']


def as_date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def period(context):
    """(first day, last day) of the period of the context (or data), the
    last full month when none is given"""
    today = Pool().get('ir.date').today()
    start = as_date(context.get('from_date'))
    end = as_date(context.get('to_date'))
    if start is None:
        start = month_start(today, 1)
    if end is None:
        end = month_start(today) - dt.timedelta(days=1)
    if start > end:
        raise GroupError(gettext(
                'crm_group_customer.msg_performance_period',
                start=start.isoformat(), end=end.isoformat()))
    return start, end


def revenue_months(start, end):
    """(first month, previous first month): the months the period falls
    in and as many months just before"""
    first = month_start(start)
    count = (end.year * 12 + end.month) - (start.year * 12 + start.month) + 1
    return first, month_start(start, count)


class PerformanceContext(ModelView):
    "Account manager performance: period"
    __name__ = 'telecom.group.performance.context'

    from_date = fields.Date("From", required=True,
        domain=[If(Bool(Eval('to_date')),
                ('from_date', '<=', Eval('to_date')), ())])
    to_date = fields.Date("To", required=True,
        domain=[If(Bool(Eval('from_date')),
                ('to_date', '>=', Eval('from_date')), ())])
    company = fields.Many2One('company.company', "Company")

    @classmethod
    def default_from_date(cls):
        context = Transaction().context
        return as_date(context.get('from_date')) or period({})[0]

    @classmethod
    def default_to_date(cls):
        context = Transaction().context
        return as_date(context.get('to_date')) or period({})[1]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company') or default_company()


class Performance(ModelSQL, ModelView):
    "Performance of an account manager over the period of the context"
    __name__ = 'telecom.group.performance'

    employee = fields.Many2One('company.employee', "Account Manager",
        readonly=True)
    company = fields.Many2One('company.company', "Company", readonly=True)
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'get_currency')
    groups = fields.Function(fields.Integer("Groups"), 'get_figures')
    revenue = fields.Function(Monetary("Revenue", currency='currency',
            digits='currency',
            help="The revenue of the manager's groups in the months of the "
            "period."), 'get_figures')
    previous_revenue = fields.Function(Monetary("Previous Revenue",
            currency='currency', digits='currency',
            help="The same number of months just before."), 'get_figures')
    growth = fields.Function(fields.Float("Growth", digits=(16, 4),
            help="Revenue against the previous months, as a ratio "
            "(0.1 is 10% more); empty without previous revenue."),
        'get_figures')
    new_members = fields.Function(fields.Integer("New Members",
            help="Lines that joined the manager's groups in the period."),
        'get_figures')
    opportunities_won = fields.Function(fields.Integer("Opportunities Won",
            help="Opportunities of the manager's groups won in the "
            "period."), 'get_figures')
    visits = fields.Function(fields.Integer("Visits",
            help="Visits the manager made in the period."), 'get_figures')
    complaints = fields.Function(fields.Integer("Complaints",
            help="Complaints filed in the period by the manager's groups "
            "or about their member lines."), 'get_figures')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('employee', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Party = pool.get('party.party')
        Employee = pool.get('company.employee')
        party = Party.__table__()
        employee = Employee.__table__()
        company = Transaction().context.get('company')
        managers = party.select(party.account_manager.as_('employee'),
            where=(party.group_customer == True)  # noqa: E712
            & (party.account_manager != Null),
            group_by=[party.account_manager])
        where = Literal(True)
        if company:
            where &= employee.company == company
        return managers.join(employee,
            condition=managers.employee == employee.id).select(
            employee.id.as_('id'),
            employee.id.as_('employee'),
            employee.company.as_('company'),
            where=where)

    def get_rec_name(self, name):
        return self.employee.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('employee.rec_name',) + tuple(clause[1:])]

    @classmethod
    def get_currency(cls, records, name):
        return {r.id: r.company.currency.id if r.company else None
            for r in records}

    @classmethod
    def get_figures(cls, records, names):
        ids = [r.id for r in records]
        start, end = period(Transaction().context)
        result = {n: dict.fromkeys(ids, 0) for n in names}
        figures = {}
        if {'groups'} & set(names):
            figures['groups'] = cls._group_counts(ids)
        if {'revenue', 'previous_revenue', 'growth'} & set(names):
            current, previous = cls._revenues(ids, start, end)
            figures['revenue'] = current
            figures['previous_revenue'] = previous
            figures['growth'] = {i: (float((current.get(i, 0) - p) / p)
                    if p else None) for i, p in previous.items()}
        if 'new_members' in names:
            figures['new_members'] = cls._new_members(ids, start, end)
        if 'opportunities_won' in names:
            figures['opportunities_won'] = cls._opportunities(
                ids, start, end)
        if 'visits' in names:
            figures['visits'] = cls._visits(ids, start, end)
        if 'complaints' in names:
            figures['complaints'] = cls._complaints(ids, start, end)
        for name in names:
            values = figures.get(name, {})
            if name in {'revenue', 'previous_revenue'}:
                result[name] = {i: values.get(i, Decimal(0)) for i in ids}
            elif name == 'growth':
                result[name] = {i: values.get(i) for i in ids}
            else:
                result[name].update(values)
        return result

    @classmethod
    def _groups_of(cls, ids):
        "The party table and the condition: groups of the managers"
        party = Pool().get('party.party').__table__()
        return party, ((party.group_customer == True)  # noqa: E712
            & in_ids(party.account_manager, ids))

    @classmethod
    def _execute(cls, query):
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return dict(cursor)

    @classmethod
    def _group_counts(cls, ids):
        party, where = cls._groups_of(ids)
        return cls._execute(party.select(party.account_manager,
                Count(party.id), where=where,
                group_by=[party.account_manager]))

    @classmethod
    def _revenues(cls, ids, start, end):
        Revenue = Pool().get('telecom.group.revenue')
        revenue = Revenue.__table__()
        party, where = cls._groups_of(ids)
        first, previous = revenue_months(start, end)
        cursor = Transaction().connection.cursor()
        cursor.execute(*revenue.join(party,
                condition=revenue.group == party.id).select(
                party.account_manager,
                Sum(Case((revenue.month >= first, revenue.amount),
                        else_=0)),
                Sum(Case((revenue.month < first, revenue.amount),
                        else_=0)),
                where=where & (revenue.month >= previous)
                & (revenue.month <= end),
                group_by=[party.account_manager]))
        current, before = {}, {}
        for manager, amount, previous_amount in cursor:
            current[manager] = Decimal(str(amount or 0))
            before[manager] = Decimal(str(previous_amount or 0))
        return current, before

    @classmethod
    def _new_members(cls, ids, start, end):
        Member = Pool().get('telecom.group.member')
        member = Member.__table__()
        party, where = cls._groups_of(ids)
        return cls._execute(member.join(party,
                condition=member.group == party.id).select(
                party.account_manager, Count(member.id),
                where=where & (member.start_date >= start)
                & (member.start_date <= end),
                group_by=[party.account_manager]))

    @classmethod
    def _opportunities(cls, ids, start, end):
        Opportunity = Pool().get('sale.opportunity')
        opportunity = Opportunity.__table__()
        party, where = cls._groups_of(ids)
        return cls._execute(opportunity.join(party,
                condition=opportunity.party == party.id).select(
                party.account_manager, Count(opportunity.id),
                where=where & (opportunity.state == 'won')
                & (opportunity.end_date >= start)
                & (opportunity.end_date <= end),
                group_by=[party.account_manager]))

    @classmethod
    def _visits(cls, ids, start, end):
        Visit = Pool().get('telecom.group.visit')
        visit = Visit.__table__()
        return cls._execute(visit.select(visit.employee, Count(visit.id),
                where=in_ids(visit.employee, ids)
                & (visit.date >= start) & (visit.date <= end),
                group_by=[visit.employee]))

    @classmethod
    def _complaints(cls, ids, start, end):
        "Only with customer service installed: its requests"
        pool = Pool()
        try:
            Request = pool.get('telecom.service_request')
        except KeyError:
            return {}
        Member = pool.get('telecom.group.member')
        by_group, by_line = Request.__table__(), Request.__table__()
        member = Member.__table__()
        group, where = cls._groups_of(ids)
        line_group, line_where = cls._groups_of(ids)
        since = dt.datetime.combine(start, dt.time())
        until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())

        def filed(request):
            return ((request.type == 'complaint')
                & (request.state != 'merged')
                & (request.create_date >= since)
                & (request.create_date < until))
        of_groups = by_group.join(group,
            condition=by_group.customer == group.id).select(
            by_group.id.as_('request'),
            group.account_manager.as_('manager'),
            where=where & filed(by_group))
        of_lines = (by_line
            .join(member, condition=by_line.subscriber == member.subscriber)
            .join(line_group, condition=member.group == line_group.id)
            .select(by_line.id.as_('request'),
                line_group.account_manager.as_('manager'),
                where=line_where & filed(by_line)
                & (member.start_date <= end)
                & ((member.end_date == Null) | (member.end_date >= start))))
        # a complaint both of the group and of a member line counts once
        requests = Union(of_groups, of_lines)
        return cls._execute(requests.select(requests.manager,
                Count(requests.request), group_by=[requests.manager]))


class PerformanceXlsx(XlsxReport):
    "Account manager performance (Excel)"
    __name__ = 'telecom.group.performance.xlsx'
    title_message = 'crm_group_customer.msg_performance_title'

    @classmethod
    def context(cls, data):
        context = dict(Transaction().context)
        for key in ['from_date', 'to_date', 'company']:
            if data.get(key):
                context[key] = data[key]
        return context

    @classmethod
    def filters(cls, data):
        start, end = period(cls.context(data))
        return [(gettext('crm_group_customer.msg_performance_period_label'),
                '%s – %s' % (start.isoformat(), end.isoformat()))]

    @classmethod
    def columns(cls, data):
        Performance = Pool().get('telecom.group.performance')
        strings = {n: d['string'] for n, d in Performance.fields_get(
                ['employee'] + ['groups'] + FIGURES).items()}
        return [
            Column(strings['employee'], lambda r: r['employee'], width=18),
            Column(strings['groups'], lambda r: r['groups'], 'integer', 8),
            Column(strings['revenue'], lambda r: r['revenue'], 'money', 14),
            Column(strings['previous_revenue'],
                lambda r: r['previous_revenue'], 'money', 14),
            Column(strings['growth'], lambda r: r['growth'], 'rate', 10),
            Column(strings['new_members'], lambda r: r['new_members'],
                'integer', 10),
            Column(strings['opportunities_won'],
                lambda r: r['opportunities_won'], 'integer', 12),
            Column(strings['visits'], lambda r: r['visits'], 'integer', 8),
            Column(strings['complaints'], lambda r: r['complaints'],
                'integer', 10),
            ]

    @classmethod
    def rows(cls, records, data):
        Performance = Pool().get('telecom.group.performance')
        with Transaction().set_context(cls.context(data),
                _check_access=True):
            if records:
                ids = [r.id for r in records]
            else:
                ids = [r.id for r in Performance.search([])]
            rows = Performance.read(ids,
                ['employee.rec_name', 'groups'] + FIGURES)
        for row in rows:
            row['employee'] = (row.get('employee.') or {}).get('rec_name')
            yield row


class GroupListXlsx(XlsxReport):
    """Group customers (Excel): value level, account manager, members and
    the revenue of the last three full months"""
    __name__ = 'telecom.group.list.xlsx'
    title_message = 'crm_group_customer.msg_group_list_title'
    months = 3

    @classmethod
    def revenue_months(cls):
        today = Pool().get('ir.date').today()
        return [month_start(today, i) for i in range(cls.months, 0, -1)]

    @classmethod
    def columns(cls, data):
        Party = Pool().get('party.party')
        strings = {n: d['string'] for n, d in Party.fields_get([
                    'group_code', 'name', 'value_level', 'account_manager',
                    'member_count', 'company']).items()}
        columns = [
            Column(strings['group_code'], lambda r: r['group_code'], width=14),
            Column(strings['name'], lambda r: r['name'], width=28),
            Column(strings['value_level'], lambda r: r['value_level'],
                width=8),
            Column(strings['account_manager'], lambda r: r['manager'],
                width=16),
            Column(strings['member_count'], lambda r: r['members'],
                'integer', 9),
            ]
        for month in cls.revenue_months():
            columns.append(Column(gettext(
                        'crm_group_customer.msg_group_list_revenue',
                        month=month.strftime('%Y-%m')),
                    lambda r, m=month: r['revenue'].get(m, Decimal(0)),
                    'money', 13))
        return columns

    @classmethod
    def rows(cls, records, data):
        pool = Pool()
        Party = pool.get('party.party')
        Revenue = pool.get('telecom.group.revenue')
        months = cls.revenue_months()
        levels = dict(Party.fields_get(['value_level'])['value_level'][
                'selection'])
        with Transaction().set_context(_check_access=True):
            if records:
                ids = [r.id for r in records if r.group_customer]
            else:
                ids = [p.id for p in Party.search(
                        [('group_customer', '=', True)],
                        order=[('group_code', 'ASC')])]
            for sub_ids in [ids[i:i + 1000]
                    for i in range(0, len(ids), 1000)]:
                revenues = {}
                for row in Revenue.search_read([
                            ('group', 'in', sub_ids),
                            ('month', '>=', months[0]),
                            ('month', '<=', months[-1]),
                            ], fields_names=['group', 'month', 'amount']):
                    revenues.setdefault(row['group'], {})[row['month']] = (
                        row['amount'])
                parties = {p['id']: p for p in Party.read(sub_ids, [
                            'group_code', 'name', 'value_level',
                            'account_manager.rec_name', 'member_count'])}
                for id_ in sub_ids:
                    party = parties[id_]
                    yield {
                        'group_code': party['group_code'],
                        'name': party['name'],
                        'value_level': levels.get(party['value_level']),
                        'manager': (party.get('account_manager.')
                            or {}).get('rec_name'),
                        'members': party['member_count'],
                        'revenue': revenues.get(id_, {}),
                        }
