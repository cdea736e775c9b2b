"The group business's Excel reports: pipeline by stage, contract expiry"
import datetime as dt
import io
import unittest
from decimal import Decimal

import openpyxl

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

from crm_group_customer.tests.pipeline_tools import (
    active_contract,
    plans,
    staffed_group,
)
from crm_group_customer.tests.tools import create_group, manager_staff
from crm_telecom.tests.tools import xlsx_report


def workbook(name, data):
    "Every sheet of an Excel report: {sheet name: rows}"
    Report = Pool().get(name, type='report')
    _, content, _, _ = Report.execute([], data)
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {s.title: list(s.iter_rows(values_only=True)) for s in book}


class PipelineReportTestCase(unittest.TestCase):
    "Group business reports"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_group_customer')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    @with_transaction()
    def test_pipeline_by_stage(self):
        "Count, revenue and weighted revenue per stage and per manager"
        Opportunity = Pool().get('sale.opportunity')
        group, manager, director = staffed_group()
        other, _ = manager_staff(login='manager2', name="客户经理小李",
            director=director)
        second = create_group("广州珠江物流集团", sequence=2, manager=other)
        values = [
            (group, manager, 'research', 0.2, '1000'),
            (group, manager, 'research', 0.5, '3000'),
            (second, other, 'negotiation', 0.8, '500'),
            ]
        opportunities = Opportunity.create([{
                    'party': g.id, 'employee': m.employee.id,
                    'conversion_probability': p,
                    'expected_monthly_revenue': Decimal(r),
                    } for g, m, _, p, r in values])
        Opportunity.opportunity(opportunities)
        for opportunity, (_, _, stage, _, _) in zip(opportunities, values):
            opportunity.stage = stage
        Opportunity.save(opportunities)
        lead, = Opportunity.create([{'party': group.id,
                    'employee': manager.employee.id,
                    'conversion_probability': 0.1,
                    'expected_monthly_revenue': Decimal('2000')}])

        sheets = workbook('telecom.group.pipeline.report.xlsx', {})
        by_stage, by_manager = sheets.values()
        header = by_stage.index(
            ("Stage", "Opportunities", "Expected Monthly Revenue",
                "Weighted Monthly Revenue"))
        rows = {r[0]: r[1:] for r in by_stage[header + 1:]}
        self.assertEqual(rows["Lead"], (1, 2000, 200))
        self.assertEqual(rows["Requirement Research"], (2, 4000, 1700))
        self.assertEqual(rows["Business Negotiation"], (1, 500, 400))
        self.assertEqual(rows["Solution Proposal"], (0, 0, 0))
        self.assertEqual(rows["All stages"], (4, 6500, 2300))
        managers = {(r[0], r[1]): r[2:] for r in by_manager[header + 1:]}
        self.assertEqual(managers[("客户经理小陈", "All stages")],
            (3, 6000, 1900))
        self.assertEqual(managers[("客户经理小李", "Business Negotiation")],
            (1, 500, 400))

    @with_transaction()
    def test_contract_expiry(self):
        "The contracts ending in the next months, with their renewal"
        pool = Pool()
        Contract = pool.get('telecom.group.contract')
        today = pool.get('ir.date').today()
        group, manager, director = staffed_group()
        plan = plans()["神州行 18元畅聊卡"]
        soon = active_contract(group, manager, director, [(plan, 5, '18')],
            start=today - dt.timedelta(days=300),
            end=today + dt.timedelta(days=20))
        active_contract(group, manager, director, [(plan, 5, '18')],
            end=today + dt.timedelta(days=300))
        Contract.remind_expiring()
        renewal, = soon.renewals

        _, rows = xlsx_report('telecom.group.contract.expiry.report.xlsx',
            data={'months': 2})
        header = next(i for i, r in enumerate(rows) if r[0] == "Code")
        row, = rows[header + 1:]
        self.assertEqual(row[0], soon.code)
        self.assertEqual(row[1:3], (group.name, "客户经理小陈"))
        self.assertEqual(row[4].date(), soon.end_date)
        self.assertEqual(row[5:], (20, "Expiring", renewal.number, "Lead"))
