"""Group-business reports for managers (Excel):

Pipeline by Stage
    The open opportunities of group customers (leads, opportunities by
    stage, converted ones waiting for their contract): per stage the
    number, the expected monthly revenue and that revenue weighted by the
    conversion probability; a second sheet gives the same per account
    manager and stage, with each manager's total.
Contract Expiry
    The active and expiring contracts ending in the next N months, with
    their group, account manager, end date, state and renewal opportunity.

Each sheet is one GROUP BY or one joined query over the companies the user
works for (or the one asked)."""
import datetime as dt
from collections import defaultdict

from sql import Literal, Null
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Coalesce

from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.wizard import StateReport, StateView

from crm_telecom.excel import (
    Column,
    ExportFilter,
    ExportWizard,
    XlsxReport,
    export_buttons,
)

from .contract import LIVE_STATES
from .exceptions import GroupError
from .opportunity import STAGES

PIPELINE_STATES = ['lead', 'opportunity', 'converted']


def report_companies(data):
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
            raise GroupError(gettext(
                    'crm_group_customer.msg_report_company',
                    company=Company(company).rec_name))
        return [company]
    return allowed


def company_condition(column, companies):
    if companies is None:
        return Literal(True)
    return SQL_OPERATORS['in'](column, companies or [-1])


def company_filter(data):
    Company = Pool().get('company.company')
    company = data.get('company')
    return (gettext('crm_group_customer.msg_report_company_label'),
        Company(company).rec_name if company else gettext(
            'crm_group_customer.msg_report_all_companies'))


class GroupReportsXlsx(XlsxReport):
    "Several sheets, each (name, title, columns, rows)"

    @classmethod
    def sheets(cls, data):
        raise NotImplementedError

    @classmethod
    def _write_sheet(cls, workbook, records, data):
        formats = cls.formats(workbook)
        for name, title, columns, rows in cls.sheets(data):
            sheet = workbook.add_worksheet(name[:31])
            for col, column in enumerate(columns):
                sheet.set_column(col, col, column.width)
            sheet.write_string(0, 0, title, formats['title'])
            sheet.write_string(1, 0, '; '.join('%s: %s' % (k, v)
                    for k, v in cls.filters(data)), formats['text'])
            sheet.write_string(2, 0, gettext(
                    'crm_telecom.msg_xlsx_generated',
                    date=dt.datetime.now().strftime('%Y-%m-%d %H:%M')),
                formats['text'])
            header_row = 4
            cls.write_header(sheet, header_row, columns, formats)
            row = header_row
            for row, source in enumerate(rows, header_row + 1):
                cls.write_row(sheet, row, columns, source, formats)
            sheet.freeze_panes(header_row + 1, 1)
            sheet.autofilter(header_row, 0, max(row, header_row + 1),
                len(columns) - 1)


class PipelineReportStart(ExportFilter):
    "Pipeline by stage: company"
    __name__ = 'telecom.group.pipeline.report.start'

    company = fields.Many2One('company.company', "Company",
        help="Leave empty for every company you work for.")


class PipelineReport(ExportWizard):
    "Export the group pipeline by stage to Excel"
    __name__ = 'telecom.group.pipeline.report'

    start = StateView('telecom.group.pipeline.report.start',
        'crm_group_customer.pipeline_report_start_view_form',
        export_buttons())
    export = StateReport('telecom.group.pipeline.report.xlsx')


class PipelineReportXlsx(GroupReportsXlsx):
    "Group pipeline by stage (Excel)"
    __name__ = 'telecom.group.pipeline.report.xlsx'
    title_message = 'crm_group_customer.msg_pipeline_report_title'

    @classmethod
    def filters(cls, data):
        return [company_filter(data)]

    @classmethod
    def stage_labels(cls):
        "{stage key: label}, in the pipeline's order"
        Opportunity = Pool().get('sale.opportunity')
        definitions = Opportunity.fields_get(['state', 'stage'])
        states = dict(definitions['state']['selection'])
        stages = dict(definitions['stage']['selection'])
        labels = {'lead': states['lead']}
        labels['opportunity'] = states['opportunity']
        for key, _ in STAGES:
            if key:
                labels[key] = stages[key]
        labels['converted'] = states['converted']
        return labels

    @classmethod
    def groups(cls, data):
        """[(employee, stage key, count, revenue, weighted)] of the open
        opportunities of group customers, one query"""
        pool = Pool()
        Opportunity = pool.get('sale.opportunity')
        Party = pool.get('party.party')
        opportunity = Opportunity.__table__()
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        revenue = Coalesce(opportunity.expected_monthly_revenue, 0)
        cursor.execute(*opportunity.join(party,
                condition=opportunity.party == party.id).select(
                opportunity.employee, opportunity.state, opportunity.stage,
                Count(opportunity.id), Sum(revenue),
                Sum(revenue * opportunity.conversion_probability),
                where=opportunity.state.in_(PIPELINE_STATES)
                & (party.group_customer == Literal(True))
                & company_condition(opportunity.company,
                    report_companies(data)),
                group_by=[opportunity.employee, opportunity.state,
                    opportunity.stage]))
        result = []
        for employee, state, stage, count, total, weighted in cursor:
            key = stage if state == 'opportunity' and stage else state
            result.append((employee, key, count, total or 0, weighted or 0))
        return result

    @classmethod
    def columns(cls, data, by_manager=False):
        def label(name):
            return gettext('crm_group_customer.msg_pipeline_report_' + name)
        columns = []
        if by_manager:
            columns.append(Column(label('manager'), lambda r: r['manager'],
                    width=20))
        columns += [
            Column(label('stage'), lambda r: r['stage'], width=20),
            Column(label('count'), lambda r: r['count'], 'integer', width=9),
            Column(label('revenue'), lambda r: r['revenue'], 'money',
                width=16),
            Column(label('weighted'), lambda r: r['weighted'], 'money',
                width=16),
            ]
        return columns

    @classmethod
    def sheets(cls, data):
        Employee = Pool().get('company.employee')
        labels = cls.stage_labels()
        order = list(labels)
        groups = cls.groups(data)

        def add(figures, count, revenue, weighted):
            figures['count'] += count
            figures['revenue'] += revenue
            figures['weighted'] += weighted

        def empty():
            return {'count': 0, 'revenue': 0, 'weighted': 0}
        by_stage = defaultdict(empty)
        by_manager = defaultdict(lambda: defaultdict(empty))
        for employee, key, count, revenue, weighted in groups:
            add(by_stage[key], count, revenue, weighted)
            add(by_manager[employee][key], count, revenue, weighted)
            add(by_manager[employee][None], count, revenue, weighted)
        everything = gettext('crm_group_customer.msg_pipeline_report_all')
        total = empty()
        for figures in by_stage.values():
            add(total, figures['count'], figures['revenue'],
                figures['weighted'])
        stage_rows = [{'stage': labels[k], **by_stage[k]} for k in order]
        stage_rows.append({'stage': everything, **total})
        names = {e.id: e.rec_name for e in Employee.browse(
                [e for e in by_manager if e is not None])}
        none = gettext('crm_group_customer.msg_pipeline_report_no_manager')
        manager_rows = []
        for employee in sorted(by_manager,
                key=lambda e: (e is None, names.get(e, ''))):
            name = names.get(employee, none)
            stages = by_manager[employee]
            for key in order:
                if key in stages:
                    manager_rows.append({'manager': name,
                            'stage': labels[key], **stages[key]})
            manager_rows.append({'manager': name, 'stage': everything,
                    **stages[None]})
        return [
            (gettext('crm_group_customer.msg_pipeline_report_stage_sheet'),
                gettext('crm_group_customer.msg_pipeline_report_title'),
                cls.columns(data), stage_rows),
            (gettext('crm_group_customer.msg_pipeline_report_manager_sheet'),
                gettext(
                    'crm_group_customer.msg_pipeline_report_manager_title'),
                cls.columns(data, by_manager=True), manager_rows),
            ]


class ContractExpiryReportStart(ExportFilter):
    "Contract expiry: months ahead, company"
    __name__ = 'telecom.group.contract.expiry.report.start'

    months = fields.Integer("Months", required=True,
        domain=[('months', '>', 0)],
        help="The contracts ending within this many months from today.")
    company = fields.Many2One('company.company', "Company",
        help="Leave empty for every company you work for.")

    @classmethod
    def default_months(cls):
        return 3


class ContractExpiryReport(ExportWizard):
    "Export the contracts ending soon to Excel"
    __name__ = 'telecom.group.contract.expiry.report'

    start = StateView('telecom.group.contract.expiry.report.start',
        'crm_group_customer.contract_expiry_report_start_view_form',
        export_buttons())
    export = StateReport('telecom.group.contract.expiry.report.xlsx')


class ContractExpiryReportXlsx(GroupReportsXlsx):
    "Group contracts ending soon (Excel)"
    __name__ = 'telecom.group.contract.expiry.report.xlsx'
    title_message = 'crm_group_customer.msg_expiry_report_title'

    @classmethod
    def period(cls, data):
        "(today, the last day of the period)"
        today = Pool().get('ir.date').today()
        months = int(data.get('months') or 3)
        month = today.month - 1 + months
        year, month = today.year + month // 12, month % 12 + 1
        # the same day N months later, or the month's last day
        for day in range(today.day, 0, -1):
            try:
                return today, dt.date(year, month, day)
            except ValueError:
                continue

    @classmethod
    def filters(cls, data):
        start, end = cls.period(data)
        return [
            (gettext('crm_group_customer.msg_expiry_report_period'),
                '%s – %s' % (start.isoformat(), end.isoformat())),
            company_filter(data),
            ]

    @classmethod
    def contract_rows(cls, data):
        """The contracts ending in the period with their group, manager
        and first renewal opportunity, one query"""
        pool = Pool()
        Contract = pool.get('telecom.group.contract')
        Party = pool.get('party.party')
        Employee = pool.get('company.employee')
        Opportunity = pool.get('sale.opportunity')
        contract = Contract.__table__()
        group = Party.__table__()
        employee = Employee.__table__()
        manager = Party.__table__()
        opportunity = Opportunity.__table__()
        cursor = Transaction().connection.cursor()
        start, end = cls.period(data)
        renewal = opportunity.select(opportunity.renewal_of.as_('contract'),
            Min(opportunity.id).as_('opportunity'),
            where=opportunity.renewal_of != Null,
            group_by=[opportunity.renewal_of])
        renewal_number = opportunity.select(opportunity.id,
            opportunity.number, opportunity.state)
        query = (contract
            .join(group, condition=contract.group == group.id)
            .join(employee, 'LEFT',
                condition=contract.account_manager == employee.id)
            .join(manager, 'LEFT', condition=employee.party == manager.id)
            .join(renewal, 'LEFT', condition=renewal.contract == contract.id)
            .join(renewal_number, 'LEFT',
                condition=renewal_number.id == renewal.opportunity))
        cursor.execute(*query.select(
                contract.code, group.name, manager.name, contract.start_date,
                contract.end_date, contract.state, renewal_number.number,
                renewal_number.state,
                where=contract.state.in_(LIVE_STATES)
                & (contract.end_date <= end)
                & company_condition(contract.company,
                    report_companies(data)),
                order_by=[contract.end_date.asc, contract.code.asc]))
        states = dict(Contract.fields_get(['state'])['state']['selection'])
        opportunity_states = dict(Opportunity.fields_get(
                ['state'])['state']['selection'])
        rows = []
        for (code, group_name, manager_name, start_date, end_date, state,
                number, opportunity_state) in cursor:
            if isinstance(end_date, str):
                end_date = dt.date.fromisoformat(end_date)
            if isinstance(start_date, str):
                start_date = dt.date.fromisoformat(start_date)
            rows.append({
                    'code': code,
                    'group': group_name,
                    'manager': manager_name,
                    'start_date': start_date,
                    'end_date': end_date,
                    'days': (end_date - start).days,
                    'state': states.get(state, state),
                    'renewal': number,
                    'renewal_state': opportunity_states.get(
                        opportunity_state, opportunity_state),
                    })
        return rows

    @classmethod
    def sheets(cls, data):
        pool = Pool()
        Contract = pool.get('telecom.group.contract')
        names = Contract.fields_get(['code', 'group', 'account_manager',
                'start_date', 'end_date', 'state', 'renewals'])

        def label(name):
            return names[name]['string']

        def message(name):
            return gettext('crm_group_customer.msg_expiry_report_' + name)
        columns = [
            Column(label('code'), lambda r: r['code'], width=18),
            Column(label('group'), lambda r: r['group'], width=30),
            Column(label('account_manager'), lambda r: r['manager'],
                width=16),
            Column(label('start_date'), lambda r: r['start_date'], 'date',
                width=12),
            Column(label('end_date'), lambda r: r['end_date'], 'date',
                width=12),
            Column(message('days'), lambda r: r['days'], 'integer', width=9),
            Column(label('state'), lambda r: r['state'], width=12),
            Column(message('renewal'), lambda r: r['renewal'], width=16),
            Column(message('renewal_state'), lambda r: r['renewal_state'],
                width=14),
            ]
        return [(gettext('crm_group_customer.msg_expiry_report_sheet'),
                gettext('crm_group_customer.msg_expiry_report_title'),
                columns, cls.contract_rows(data))]
