"""Customer-service reports for managers, one Excel workbook of sheets:

Complaint Rate, Complaint Rate by Topic
    Complaints per 10,000 lines, by month and by the region of the
    customer, taken at the province or the city level (the wizard asks
    which; a customer filed at a level above it, e.g. only a province when
    cities are asked, counts at that level). A complaint is a request of
    type complaint created in the month, merged duplicates left out; its
    topic is the complaint's type. The lines of a region are the lines of
    its customers in service at the end of the month (activated on or
    before that day and not terminated by then, suspended ones included),
    or at the end of the period for a month the period ends in. The rate
    is complaints × 10,000 / lines. "All regions" counts every line,
    customers without a region too.
SLA by Team
    Requests resolved in the period (by when they were resolved; a
    request reopened since counts no more), those of them with a deadline,
    resolved on time (its `sla_met`, or resolved by its deadline while
    that field is not there), late, the share on time (on time / with a
    deadline), requests still open now that were taken before the end of
    the period, and those of them past their deadline (at the end of the
    period, or now when the period has not ended).
Satisfaction by Team, Satisfaction by Type
    Return visits made in the period: visits, customers unreachable,
    visits answered (all the others), the average score and the number of
    each score 1 to 5 among the answered visits, the dissatisfied answers
    and their share of the answered visits. Every visit counts, a request
    visited twice twice.

Months and periods are days of the company's time zone. Every figure is
one GROUP BY query over the period, not a query per request or line; the
regions are folded to the level asked in Python, from one read of the
region tree.

The SLA deadline and result and the return visits are added by other
parts of the module: a sheet or column whose field or model is not in the
pool is left out.
"""
import datetime as dt
from collections import defaultdict

from sql import Literal, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.tools import timezone as tz
from trytond.transaction import Transaction
from trytond.wizard import StateReport, StateView

from crm_telecom.company import default_company
from crm_telecom.excel import (
    FONT,
    Column,
    ExportFilter,
    ExportWizard,
    XlsxReport,
    export_buttons,
)

from .exceptions import ServiceError

REGION_LEVELS = [
    ('province', "Province"),
    ('city', "City"),
    ]
_DEPTH = {'province': 0, 'city': 1, 'district': 2}
LIVE_STATES = ['open', 'waiting']
SCORES = [1, 2, 3, 4, 5]
PER = 10000


def score_value(value):
    "A satisfaction score 1 to 5 as an integer, stored as text or number"
    if value in (None, ''):
        return None
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if value in SCORES else None


def share(part, whole):
    return part / whole if whole else None


def stored_field(Model, name):
    "Whether a model has a field stored in its table"
    field = Model._fields.get(name)
    return (field is not None
        and not isinstance(field, fields.Function)
        and hasattr(field, 'sql_type'))


class ServiceReportStart(ExportFilter):
    "Customer-service reports: period"
    __name__ = 'telecom.service.report.start'

    from_date = fields.Date("From", required=True)
    to_date = fields.Date("To", required=True,
        domain=[If(Bool(Eval('from_date')),
                ('to_date', '>=', Eval('from_date')),
                ())])
    company = fields.Many2One('company.company', "Company",
        help="Leave empty for every company you work for.")
    region_level = fields.Selection(REGION_LEVELS, "Region Level",
        required=True,
        help="Complaint rates by the customer's province or city.")

    @classmethod
    def default_from_date(cls):
        today = Pool().get('ir.date').today()
        return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)

    @classmethod
    def default_to_date(cls):
        today = Pool().get('ir.date').today()
        return today.replace(day=1) - dt.timedelta(days=1)

    @classmethod
    def default_region_level(cls):
        return 'city'


class ServiceReport(ExportWizard):
    "Export the customer-service reports to Excel"
    __name__ = 'telecom.service.report'

    start = StateView('telecom.service.report.start',
        'crm_service.service_report_start_view_form', export_buttons())
    export = StateReport('telecom.service.report.xlsx')

    def do_export(self, action):
        action, data = super().do_export(action)
        ServiceReportXlsx.period(data)
        ServiceReportXlsx.companies(data)
        return action, data


class ServiceReportXlsx(XlsxReport):
    "Customer-service reports (Excel)"
    __name__ = 'telecom.service.report.xlsx'
    title_message = 'crm_service.msg_service_report_title'

    # --- the filters --------------------------------------------------------

    @classmethod
    def period(cls, data):
        "(first day, last day) of the period asked"
        def date(value):
            if isinstance(value, dt.date):
                return value
            return dt.date.fromisoformat(value)
        try:
            start = date(data['from_date'])
            end = date(data['to_date'])
        except (KeyError, TypeError, ValueError):
            raise ServiceError(gettext(
                    'crm_service.msg_service_report_no_period'))
        if start > end:
            raise ServiceError(gettext(
                    'crm_service.msg_service_report_period',
                    start=start.isoformat(), end=end.isoformat()))
        return start, end

    @classmethod
    def companies(cls, data):
        """The ids of the companies reported on, None for all: the company
        asked, or those the user works for (as the record rules do)"""
        pool = Pool()
        User = pool.get('res.user')
        Company = pool.get('company.company')
        company = data.get('company')
        if Transaction().user == 0:
            return [company] if company else None
        allowed = list(User.get_companies())
        if company:
            if company not in allowed:
                raise ServiceError(gettext(
                        'crm_service.msg_service_report_company',
                        company=Company(company).rec_name))
            return [company]
        return allowed

    @classmethod
    def zone(cls, data):
        """The time zone the days of the report are in: the company's asked,
        else the user's"""
        pool = Pool()
        Company = pool.get('company.company')
        company = data.get('company') or default_company()
        if company:
            zone = Company(company).timezone
            if zone:
                return tz.get_tzinfo(zone)
        return tz.UTC

    @classmethod
    def moment(cls, data, date):
        "The start of a day of the company, as stored (UTC)"
        local = dt.datetime.combine(date, dt.time()).replace(
            tzinfo=cls.zone(data))
        return local.astimezone(tz.UTC).replace(tzinfo=None)

    @classmethod
    def months(cls, data):
        "[(label, first day, last day)] of the months in the period"
        start, end = cls.period(data)
        months = []
        first = start
        while first <= end:
            following = (first.replace(day=1) + dt.timedelta(days=32)
                ).replace(day=1)
            last = min(end, following - dt.timedelta(days=1))
            months.append((first.strftime('%Y-%m'), first, last))
            first = following
        return months

    @classmethod
    def filters(cls, data):
        pool = Pool()
        Start = pool.get('telecom.service.report.start')
        Company = pool.get('company.company')
        definitions = Start.fields_get(['company', 'region_level'])
        start, end = cls.period(data)
        company = data.get('company')
        level = dict(definitions['region_level']['selection']).get(
            data.get('region_level') or 'city')
        return [
            (gettext('crm_service.msg_service_report_period_label'),
                '%s – %s' % (start.isoformat(), end.isoformat())),
            (definitions['company']['string'],
                Company(company).rec_name if company else gettext(
                    'crm_service.msg_service_report_all_companies')),
            (definitions['region_level']['string'], level),
            ]

    @classmethod
    def _company_condition(cls, column, companies):
        if companies is None:
            return Literal(True)
        return SQL_OPERATORS['in'](column, companies)

    # --- the workbook -------------------------------------------------------

    @classmethod
    def formats(cls, workbook):
        formats = super().formats(workbook)
        for name, spec in [
                ('percent', {'num_format': '0.0%'}),
                ('decimal', {'num_format': '0.00'}),
                ]:
            formats[name] = workbook.add_format({**FONT, **spec})
        return formats

    @classmethod
    def sheets(cls, data):
        """[(sheet name, title, columns, rows)]: the sheets whose fields
        and models are there"""
        pool = Pool()
        Request = pool.get('telecom.service_request')
        sheets = []
        by_region, by_topic = cls.complaint_rates(data)
        sheets.append((
                gettext('crm_service.msg_service_report_rate_sheet'),
                gettext('crm_service.msg_service_report_rate_title'),
                cls.rate_columns(topic=False), by_region))
        sheets.append((
                gettext('crm_service.msg_service_report_rate_topic_sheet'),
                gettext('crm_service.msg_service_report_rate_topic_title'),
                cls.rate_columns(topic=True), by_topic))
        sheets.append((
                gettext('crm_service.msg_service_report_sla_sheet'),
                gettext('crm_service.msg_service_report_sla_title'),
                cls.sla_columns(), cls.sla_rows(data)))
        try:
            Visit = pool.get('telecom.service_request.visit')
        except KeyError:
            Visit = None
        if Visit is not None and 'request' in Visit._fields:
            labels = dict(Request.fields_get(['type'])['type']['selection'])
            sheets.append((
                    gettext('crm_service.msg_service_report_sat_team_sheet'),
                    gettext('crm_service.msg_service_report_sat_team_title'),
                    cls.satisfaction_columns(gettext(
                            'crm_service.msg_service_report_team')),
                    cls.satisfaction_rows(
                        cls.visit_groups(data, 'team'), cls.team_labels)))
            sheets.append((
                    gettext('crm_service.msg_service_report_sat_type_sheet'),
                    gettext('crm_service.msg_service_report_sat_type_title'),
                    cls.satisfaction_columns(gettext(
                            'crm_service.msg_service_report_type')),
                    cls.satisfaction_rows(
                        cls.visit_groups(data, 'type'),
                        lambda keys: {k: labels.get(k, k) for k in keys})))
        return sheets

    @classmethod
    def _write_sheet(cls, workbook, records, data):
        formats = cls.formats(workbook)
        names = set()
        for name, title, columns, rows in cls.sheets(data):
            name = name[:31]
            while name in names:
                name = name[:29] + '_%d' % len(names)
            names.add(name)
            sheet = workbook.add_worksheet(name)
            for col, column in enumerate(columns):
                sheet.set_column(col, col, column.width)
            header_row = cls._write_sheet_title(sheet, title, data, formats)
            cls.write_header(sheet, header_row, columns, formats)
            row = header_row
            for row, source in enumerate(rows, header_row + 1):
                cls.write_row(sheet, row, columns, source, formats)
            sheet.freeze_panes(header_row + 1, 1)
            sheet.autofilter(header_row, 0, max(row, header_row + 1),
                len(columns) - 1)

    @classmethod
    def _write_sheet_title(cls, sheet, title, data, formats):
        "The sheet's title, the filters used and when; the first free row"
        sheet.write_string(0, 0, title, formats['title'])
        sheet.write_string(1, 0, '; '.join('%s: %s' % (k, v)
                for k, v in cls.filters(data)), formats['text'])
        sheet.write_string(2, 0, gettext('crm_telecom.msg_xlsx_generated',
                date=dt.datetime.now().strftime('%Y-%m-%d %H:%M')),
            formats['text'])
        return 4

    # --- complaints per 10,000 lines ----------------------------------------

    @classmethod
    def rate_columns(cls, topic):
        def label(name):
            return gettext('crm_service.msg_service_report_' + name)
        columns = [
            Column(label('month'), lambda r: r['month'], width=9),
            Column(label('region'), lambda r: r['region'], width=24),
            ]
        if topic:
            columns.append(Column(label('topic'), lambda r: r['topic'],
                    width=18))
        columns += [
            Column(label('complaints'), lambda r: r['complaints'],
                'integer', width=11),
            Column(label('lines'), lambda r: r['lines'], 'integer',
                width=11),
            Column(label('per_10000'), lambda r: r['rate'], 'decimal',
                width=13),
            ]
        return columns

    @classmethod
    def region_levels(cls, level):
        """{region id: the id of the region it is counted under}: itself,
        or its city or province for the level asked"""
        pool = Pool()
        Region = pool.get('telecom.region')
        region = Region.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*region.select(region.id, region.parent, region.type))
        tree = {id_: (parent, type_) for id_, parent, type_ in cursor}
        depth = _DEPTH[level]
        result = {}
        for id_ in tree:
            current, seen = id_, set()
            while (current in tree and current not in seen
                    and _DEPTH.get(tree[current][1], 0) > depth
                    and tree[current][0] in tree):
                seen.add(current)
                current = tree[current][0]
            result[id_] = current
        return result

    @classmethod
    def complaint_counts(cls, data, months):
        "{(month index, customer region, topic): complaints}, one query"
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Party = pool.get('party.party')
        request = Request.__table__()
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        start = cls.moment(data, months[0][1])
        end = cls.moment(data, months[-1][2] + dt.timedelta(days=1))
        month = Case(*[(request.create_date
                    < cls.moment(data, last + dt.timedelta(days=1)), i)
                for i, (_, _, last) in enumerate(months)], else_=Null)
        complaints = request.join(party,
            condition=request.customer == party.id).select(
            request.id.as_('id'), month.as_('month'),
            party.region.as_('region'),
            request.topic.as_('topic'),
            where=(request.type == 'complaint')
            & (request.state != 'merged')
            & (request.create_date >= start) & (request.create_date < end)
            & cls._company_condition(request.company, cls.companies(data)))
        cursor.execute(*complaints.select(
                complaints.month, complaints.region, complaints.topic,
                Count(complaints.id),
                group_by=[complaints.month, complaints.region,
                    complaints.topic]))
        return {(m, r, t): n for m, r, t, n in cursor}

    @classmethod
    def line_counts(cls, data, months):
        """{(month index, customer region): lines in service at the end of
        the month}, one query"""
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        Party = pool.get('party.party')
        line = Subscriber.__table__()
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        in_service = [Sum(Case(((line.activation_date <= last)
                        & ((line.termination_date == Null)
                            | (line.termination_date > last)), 1),
                    else_=0))
            for _, _, last in months]
        cursor.execute(*line.join(party,
                condition=line.customer == party.id).select(
                party.region, *in_service,
                where=(line.activation_date != Null)
                & (line.activation_date <= months[-1][2])
                & cls._company_condition(line.company, cls.companies(data)),
                group_by=[party.region]))
        result = {}
        for region, *counts in cursor:
            for i, count in enumerate(counts):
                result[(i, region)] = int(count or 0)
        return result

    @classmethod
    def complaint_rates(cls, data):
        """The rows of both rate sheets: by month and region (with a row
        for all the regions first), and by month, region and topic"""
        pool = Pool()
        Region = pool.get('telecom.region')
        Topic = pool.get('telecom.service.topic')
        months = cls.months(data)
        levels = cls.region_levels(data.get('region_level') or 'city')
        complaints = defaultdict(int)
        lines = defaultdict(int)
        for (month, region, topic), count in cls.complaint_counts(
                data, months).items():
            if month is not None:
                complaints[(month, levels.get(region), topic)] += count
        for (month, region), count in cls.line_counts(data, months).items():
            lines[(month, levels.get(region))] += count
        region_ids = {k[1] for k in complaints} | {k[1] for k in lines}
        region_names = {r.id: r.rec_name
            for r in Region.browse([i for i in region_ids if i])}
        region_names[None] = gettext('crm_service.msg_service_report_no_region')
        topic_ids = [t for t in {k[2] for k in complaints} if t]
        topic_names = {t.id: t.rec_name for t in Topic.browse(topic_ids)}
        topic_names[None] = gettext('crm_service.msg_service_report_no_topic')

        def row(label, region, topic, count, total):
            return {'month': label, 'region': region, 'topic': topic,
                'complaints': count, 'lines': total,
                'rate': share(count * PER, total)}

        by_region, by_topic = [], []
        regions = sorted(region_ids,
            key=lambda r: (r is None, region_names[r]))
        for i, (label, _, _) in enumerate(months):
            by_region.append(row(label,
                    gettext('crm_service.msg_service_report_all_regions'),
                    None,
                    sum(n for k, n in complaints.items() if k[0] == i),
                    sum(n for k, n in lines.items() if k[0] == i)))
            for region in regions:
                topics = {k[2]: n for k, n in complaints.items()
                    if k[:2] == (i, region)}
                total = lines.get((i, region), 0)
                if not topics and not total:
                    continue
                by_region.append(row(label, region_names[region], None,
                        sum(topics.values()), total))
                for topic in sorted(topics,
                        key=lambda t: (t is None, topic_names[t])):
                    by_topic.append(row(label, region_names[region],
                            topic_names[topic], topics[topic], total))
        return by_region, by_topic

    # --- SLA attainment -----------------------------------------------------

    @classmethod
    def sla_columns(cls):
        pool = Pool()
        Request = pool.get('telecom.service_request')

        def label(name):
            return gettext('crm_service.msg_service_report_' + name)
        columns = [
            Column(label('company_label'), lambda r: r['company'], width=24),
            Column(label('team'), lambda r: r['team'], width=18),
            Column(label('resolved'), lambda r: r['resolved'], 'integer',
                width=10),
            ]
        if stored_field(Request, 'deadline'):
            columns += [
                Column(label('with_deadline'), lambda r: r['with_deadline'],
                    'integer', width=10),
                Column(label('on_time'), lambda r: r['on_time'], 'integer',
                    width=10),
                Column(label('late'), lambda r: r['late'], 'integer',
                    width=10),
                Column(label('on_time_share'), lambda r: r['on_time_share'],
                    'percent', width=10),
                ]
        columns.append(Column(label('still_open'), lambda r: r['open'],
                'integer', width=10))
        if stored_field(Request, 'deadline'):
            columns.append(Column(label('open_late'),
                    lambda r: r['open_late'], 'integer', width=12))
        return columns

    @classmethod
    def sla_counts(cls, data):
        """{team id: (resolved, with a deadline, on time, still open,
        open past the deadline)}, one query"""
        pool = Pool()
        Request = pool.get('telecom.service_request')
        request = Request.__table__()
        cursor = Transaction().connection.cursor()
        start, end = cls.period(data)
        start = cls.moment(data, start)
        end = cls.moment(data, end + dt.timedelta(days=1))
        cutoff = min(end, dt.datetime.now(tz.UTC).replace(tzinfo=None))
        resolved = ((request.resolved_at >= start)
            & (request.resolved_at < end))
        live = (request.state.in_(LIVE_STATES)
            & (request.create_date < end))
        if stored_field(Request, 'deadline'):
            with_deadline = request.deadline != Null
            if stored_field(Request, 'sla_met'):
                on_time = with_deadline & (request.sla_met == Literal(True))
            else:
                on_time = with_deadline & (
                    request.resolved_at <= request.deadline)
            late_open = with_deadline & (request.deadline < cutoff)
        else:
            with_deadline = on_time = late_open = Literal(False)

        def count(condition):
            return Sum(Case((condition, 1), else_=0))
        cursor.execute(*request.select(
                request.team,
                count(resolved), count(resolved & with_deadline),
                count(resolved & on_time), count(live),
                count(live & late_open),
                where=(resolved | live) & (request.state != 'merged')
                & cls._company_condition(request.company,
                    cls.companies(data)),
                group_by=[request.team]))
        return {team: tuple(int(v or 0) for v in values)
            for team, *values in cursor}

    @classmethod
    def team_labels(cls, team_ids):
        "{team id: (company name, team name)}"
        Team = Pool().get('telecom.service.team')
        labels = {t.id: (t.company.rec_name, t.name)
            for t in Team.browse([t for t in team_ids if t])}
        labels[None] = ('', gettext('crm_service.msg_service_report_no_team'))
        return labels

    @classmethod
    def sla_rows(cls, data):
        "All the teams first, then each team of each company"
        counts = cls.sla_counts(data)
        labels = cls.team_labels(counts)

        def row(company, team, values):
            resolved, with_deadline, on_time, open_, open_late = values
            return {'company': company, 'team': team, 'resolved': resolved,
                'with_deadline': with_deadline, 'on_time': on_time,
                'late': with_deadline - on_time,
                'on_time_share': share(on_time, with_deadline),
                'open': open_, 'open_late': open_late}
        total = [sum(v[i] for v in counts.values()) for i in range(5)]
        rows = [row('', gettext('crm_service.msg_service_report_all_teams'),
                total)]
        for team in sorted(counts, key=lambda t: (t is None, labels[t])):
            rows.append(row(*labels[team], counts[team]))
        return rows

    # --- satisfaction -------------------------------------------------------

    @classmethod
    def satisfaction_columns(cls, group_label):
        def label(name):
            return gettext('crm_service.msg_service_report_' + name)
        columns = [
            Column(group_label, lambda r: r['label'], width=20),
            Column(label('visits'), lambda r: r['visits'], 'integer',
                width=9),
            Column(label('unreachable'), lambda r: r['unreachable'],
                'integer', width=11),
            Column(label('answered'), lambda r: r['answered'], 'integer',
                width=10),
            Column(label('average_score'), lambda r: r['average'],
                'decimal', width=10),
            ]
        for score in SCORES:
            columns.append(Column(gettext(
                        'crm_service.msg_service_report_score', score=score),
                    lambda r, score=score: r['scores'][score], 'integer',
                    width=8))
        columns += [
            Column(label('dissatisfied'), lambda r: r['dissatisfied'],
                'integer', width=11),
            Column(label('dissatisfied_share'),
                lambda r: r['dissatisfied_share'], 'percent', width=11),
            ]
        return columns

    @classmethod
    def visit_groups(cls, data, by):
        """[(request team or type, visit result, score, visits)] of the
        visits made in the period, one query; a field the visits do not
        have reads as None"""
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Visit = pool.get('telecom.service_request.visit')
        request = Request.__table__()
        visit = Visit.__table__()
        cursor = Transaction().connection.cursor()
        start, end = cls.period(data)
        date_name = 'date' if stored_field(Visit, 'date') else 'create_date'
        date = getattr(visit, date_name)
        if Visit._fields[date_name]._type == 'datetime':
            start = cls.moment(data, start)
            end = cls.moment(data, end + dt.timedelta(days=1))
            in_period = (date >= start) & (date < end)
        else:
            in_period = (date >= start) & (date <= end)
        key = getattr(request, by)
        result = (visit.result if stored_field(Visit, 'result')
            else Literal(None))
        score = (visit.satisfaction if stored_field(Visit, 'satisfaction')
            else Literal(None))
        group_by = [key]
        if stored_field(Visit, 'result'):
            group_by.append(visit.result)
        if stored_field(Visit, 'satisfaction'):
            group_by.append(visit.satisfaction)
        cursor.execute(*visit.join(request,
                condition=visit.request == request.id).select(
                key, result, score, Count(visit.id),
                where=in_period & (request.state != 'merged')
                & cls._company_condition(request.company,
                    cls.companies(data)),
                group_by=group_by))
        return list(cursor)

    @classmethod
    def satisfaction_rows(cls, groups, labels):
        """The rows of a satisfaction sheet from the visit groups (key,
        result, score, visits): all first, then per key; labels maps the
        keys to their names, or to (company, team) pairs for teams"""
        totals = defaultdict(lambda: {'visits': 0, 'unreachable': 0,
                'answered': 0, 'dissatisfied': 0,
                'scores': dict.fromkeys(SCORES, 0)})
        for key, result, score, count in groups:
            score = score_value(score)
            for figures in (totals[('all',)], totals[('key', key)]):
                figures['visits'] += count
                if result == 'unreachable':
                    figures['unreachable'] += count
                    continue
                if result is None and score is None:
                    continue
                figures['answered'] += count
                if result == 'dissatisfied':
                    figures['dissatisfied'] += count
                if score is not None:
                    figures['scores'][score] += count
        names = labels({k[1] for k in totals if k[0] == 'key'})

        def name(key):
            value = names.get(key, key)
            if isinstance(value, tuple):
                company, team = value
                return '%s (%s)' % (team, company) if company else team
            return value

        def row(label, figures):
            scored = sum(figures['scores'].values())
            return {'label': label, **figures,
                'average': share(sum(s * n
                        for s, n in figures['scores'].items()), scored),
                'dissatisfied_share': share(figures['dissatisfied'],
                    figures['answered'])}
        rows = [row(gettext('crm_service.msg_service_report_all'),
                totals[('all',)])]
        keys = sorted((k[1] for k in totals if k[0] == 'key'),
            key=lambda k: (k is None, str(name(k))))
        for key in keys:
            rows.append(row(name(key), totals[('key', key)]))
        return rows
