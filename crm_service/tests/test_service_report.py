"""Customer-service reports: complaint rates, SLA by team, satisfaction,
on a small known data set"""
import datetime as dt
import io
import unittest

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction

from crm_service.exceptions import ServiceError
from crm_service.service_report import score_value, stored_field
from crm_service.tests.tools import (
    as_user,
    create_request,
    create_team,
    create_topic,
    service_staff,
)
from crm_telecom.tests.tools import (
    create_customer,
    create_staff,
    line_since,
    setup_company,
    setup_reference,
    valid_id,
)

PERIOD = {'from_date': '2026-10-01', 'to_date': '2026-11-30',
    'company': None, 'region_level': 'city'}
# rows of a sheet: title, filters, generated on, blank, header, data
HEADER = 4


def utc(*args):
    "A stored moment (UTC)"
    return dt.datetime(*args)


def run_report(data):
    "The sheets of the workbook: {name: rows as tuples}"
    import openpyxl
    Report = Pool().get('telecom.service.report.xlsx', type='report')
    ext, content, _, _ = Report.execute([], data)
    assert ext == 'xlsx', ext
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return {s.title: list(s.iter_rows(values_only=True))
        for s in workbook.worksheets}


def update(records, **values):
    """Set columns in SQL, as time would have left them (creation dates,
    resolutions, deadlines): no workflow or SLA step runs"""
    Model = records[0].__class__
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    columns = [getattr(table, k) for k in values]
    cursor.execute(*table.update(columns, list(values.values()),
            where=table.id.in_([r.id for r in records])))
    for cache in Transaction().cache.values():
        cache.clear()


def in_shanghai():
    "The test company keeps China's time: its days start at 16:00 UTC"
    company = setup_company()
    company.timezone = 'Asia/Shanghai'
    company.save()
    return company


class ServiceReportTestCase(unittest.TestCase):
    "Customer-service reports"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_service')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def assertRows(self, rows, expected):
        "Data rows equal, rates to two decimals"
        self.assertEqual(len(rows), len(expected), rows)
        for row, values in zip(rows, expected):
            self.assertEqual(len(row), len(values), row)
            for value, wanted in zip(row, values):
                if isinstance(wanted, float):
                    self.assertAlmostEqual(value, wanted, places=2,
                        msg=row)
                else:
                    self.assertEqual(value, wanted, row)

    def customers_and_lines(self):
        """Customers of Guangzhou (2, and one filed under the city only),
        Shenzhen, Guangdong only and of no known region, with their lines:
        Guangzhou has 2 lines at the end of October and 3 at the end of
        November, Shenzhen 1 then none (terminated on 10 November)"""
        regions, _, _ = setup_reference()
        customers, lines = {}, {}
        for i, (name, region, since) in enumerate([
                    ('tianhe', '440106', dt.date(2026, 9, 1)),
                    ('yuexiu', '440104', dt.date(2026, 10, 15)),
                    ('futian', '440304', dt.date(2026, 9, 1)),
                    ('guangzhou', '440100', dt.date(2026, 11, 20)),
                    ('guangdong', '440000', dt.date(2026, 9, 1)),
                    ('beijing', None, dt.date(2026, 9, 1)),
                    ], 1):
            customer = create_customer(name=name, code=valid_id(i,
                    region=region or '110105'),
                region=regions[region].id if region else None)
            customers[name] = customer
            lines[name] = line_since(since, number='1380013800%d' % i,
                customer=customer)
        self.assertIsNone(customers['beijing'].region)
        # a line activated after the period does not count
        line_since(dt.date(2026, 12, 1), number='13800138009',
            customer=customers['tianhe'])
        update([lines['futian']], state='terminated',
            termination_date=dt.date(2026, 11, 10))
        return customers, lines

    @with_transaction()
    def test_complaint_rate(self):
        "Complaints per 10,000 lines by month, city and topic"
        in_shanghai()
        agent, *_ = service_staff()
        vas = create_topic()
        bill = create_topic('BILL', "账单")
        _, lines = self.customers_and_lines()
        with as_user(agent):
            for line, type_, topic, created in [
                    ('tianhe', 'complaint', vas, utc(2026, 10, 10, 2)),
                    ('futian', 'complaint', bill, utc(2026, 10, 20, 2)),
                    # not complaints, merged, out of the period
                    ('tianhe', 'consultation', vas, utc(2026, 10, 11, 2)),
                    ('tianhe', 'complaint', None, utc(2026, 10, 12, 2)),
                    ('tianhe', 'complaint', vas, utc(2026, 11, 30, 17)),
                    ('tianhe', 'complaint', vas, utc(2026, 9, 30, 15)),
                    # November
                    ('futian', 'complaint', vas, utc(2026, 11, 5, 2)),
                    # 1 November, 01:00 in China
                    ('yuexiu', 'complaint', None, utc(2026, 10, 31, 17)),
                    ]:
                request = create_request(lines[line], type=type_,
                    topic=topic.id if topic else None)
                update([request], create_date=created)
                if created == utc(2026, 10, 12, 2):
                    update([request], state='merged')

        sheets = run_report(PERIOD)
        rates = sheets['Complaint Rate']
        self.assertEqual(rates[0][0],
            "Complaints per 10,000 Lines by Month and Region")
        self.assertEqual(rates[1][0], "Period: 2026-10-01 – 2026-11-30; "
            "Company: All your companies; Region Level: City")
        self.assertEqual(rates[HEADER], ('Month', 'Customer Region',
                'Complaints', 'Lines at Month End',
                'Complaints per 10,000 Lines'))
        gd, gz, sz = "广东省", "广东省 / 广州市", "广东省 / 深圳市"
        self.assertRows(rates[HEADER + 1:], [
                ('2026-10', "All regions", 2, 5, 4000.0),
                ('2026-10', gd, 0, 1, 0.0),
                ('2026-10', gz, 1, 2, 5000.0),
                ('2026-10', sz, 1, 1, 10000.0),
                ('2026-10', "(No region)", 0, 1, 0.0),
                ('2026-11', "All regions", 2, 5, 4000.0),
                ('2026-11', gd, 0, 1, 0.0),
                ('2026-11', gz, 1, 3, 3333.33),
                # no line left to divide by
                ('2026-11', sz, 1, 0, None),
                ('2026-11', "(No region)", 0, 1, 0.0),
                ])
        self.assertRows(sheets['Complaint Rate by Topic'][HEADER + 1:], [
                ('2026-10', gz, "增值业务", 1, 2, 5000.0),
                ('2026-10', sz, "账单", 1, 1, 10000.0),
                ('2026-11', gz, "(No topic)", 1, 3, 3333.33),
                ('2026-11', sz, "增值业务", 1, 0, None),
                ])

        by_province = run_report({**PERIOD, 'region_level': 'province'})
        self.assertRows(by_province['Complaint Rate'][HEADER + 1:], [
                ('2026-10', "All regions", 2, 5, 4000.0),
                ('2026-10', gd, 2, 4, 5000.0),
                ('2026-10', "(No region)", 0, 1, 0.0),
                ('2026-11', "All regions", 2, 5, 4000.0),
                ('2026-11', gd, 2, 4, 5000.0),
                ('2026-11', "(No region)", 0, 1, 0.0),
                ])

        # a month cut by the period: its complaints from the first day
        # asked, its lines at the last
        part = run_report({**PERIOD, 'from_date': '2026-10-15',
                'to_date': '2026-11-09'})
        self.assertRows(part['Complaint Rate'][HEADER + 1:], [
                ('2026-10', "All regions", 1, 5, 2000.0),
                ('2026-10', gd, 0, 1, 0.0),
                ('2026-10', gz, 0, 2, 0.0),
                ('2026-10', sz, 1, 1, 10000.0),
                ('2026-10', "(No region)", 0, 1, 0.0),
                ('2026-11', "All regions", 2, 5, 4000.0),
                ('2026-11', gd, 0, 1, 0.0),
                ('2026-11', gz, 1, 2, 5000.0),
                ('2026-11', sz, 1, 1, 10000.0),
                ('2026-11', "(No region)", 0, 1, 0.0),
                ])

    @with_transaction()
    def test_sla_by_team(self):
        "Resolved, on time, share on time and open past the deadline"
        pool = Pool()
        Request = pool.get('telecom.service_request')
        in_shanghai()
        agent, *_ = service_staff()
        other = create_staff('backoffice', 'group_call_centre',
            name="后台支撑")
        create_team('BACK', "后台支撑组", members=[other])
        _, lines = self.customers_and_lines()
        line = lines['tianhe']
        requests = []
        for user, state, created, resolved, deadline in [
                # resolved on time, late, without a deadline
                (agent, 'resolved', utc(2026, 10, 1), utc(2026, 10, 5, 3),
                    utc(2026, 10, 6, 3)),
                (agent, 'closed', utc(2026, 10, 1), utc(2026, 10, 10, 3),
                    utc(2026, 10, 9, 3)),
                (agent, 'resolved', utc(2026, 10, 1), utc(2026, 10, 12),
                    None),
                # 1 October, 01:00 in China
                (agent, 'resolved', utc(2026, 9, 30), utc(2026, 9, 30, 17),
                    utc(2026, 10, 2)),
                # open past its deadline, and within it
                (agent, 'open', utc(2026, 10, 20), None,
                    utc(2026, 10, 25)),
                (other, 'waiting', utc(2026, 11, 1), None,
                    utc(2026, 12, 15)),
                # resolved on 1 December in China, taken after the
                # period, merged
                (other, 'resolved', utc(2026, 11, 1), utc(2026, 11, 30, 17),
                    utc(2026, 11, 2)),
                (other, 'open', utc(2026, 11, 30, 18), None,
                    utc(2026, 11, 30, 19)),
                (agent, 'merged', utc(2026, 10, 1), None,
                    utc(2026, 10, 2)),
                ]:
            with as_user(user):
                request = create_request(line)
            values = {'state': state, 'create_date': created,
                'resolved_at': resolved, 'deadline': deadline}
            if stored_field(Request, 'sla_met'):
                values['sla_met'] = bool(resolved and deadline
                    and resolved <= deadline)
            update([request], **values)
            requests.append(request)

        sla = run_report(PERIOD)['SLA by Team']
        self.assertEqual(sla[0][0], "SLA Attainment by Team")
        self.assertEqual(sla[HEADER], ('Company', 'Team', 'Resolved',
                'With a Deadline', 'Resolved on Time', 'Resolved Late',
                'On-Time Share', 'Still Open', 'Open past Deadline'))
        company = setup_company().rec_name
        self.assertRows(sla[HEADER + 1:], [
                (None, "All teams", 4, 3, 2, 1, 2 / 3, 2, 1),
                (company, "10086 热线", 4, 3, 2, 1, 2 / 3, 1, 1),
                (company, "后台支撑组", 0, 0, 0, 0, None, 1, 0),
                ])

    @with_transaction()
    def test_satisfaction(self):
        "Visits answered, average score, scores 1 to 5, dissatisfied share"
        pool = Pool()
        Report = pool.get('telecom.service.report.xlsx', type='report')
        in_shanghai()
        self.assertEqual(score_value('4'), 4)
        self.assertEqual(score_value(5), 5)
        self.assertIsNone(score_value(''))
        self.assertIsNone(score_value('7'))

        # the visits of a period as the query groups them: (team, result,
        # score as text or number, visits)
        groups = [
            (1, 'satisfied', '5', 3),
            (1, 'satisfied', 4, 1),
            (1, 'dissatisfied', '2', 1),
            (1, 'unreachable', None, 2),
            (2, 'dissatisfied', 1, 1),
            (None, 'satisfied', None, 1),
            ]
        rows = Report.satisfaction_rows(groups, lambda keys: {
                1: ("广东公司", "10086 热线"), 2: ('', "后台支撑组"),
                None: ('', "(No team)")})
        flat = [(r['label'], r['visits'], r['unreachable'], r['answered'],
                r['average'], *(r['scores'][s] for s in range(1, 6)),
                r['dissatisfied'], r['dissatisfied_share']) for r in rows]
        self.assertRows(flat, [
                ("All", 9, 2, 7, 22 / 6, 1, 1, 0, 1, 3, 2, 2 / 7),
                ("10086 热线 (广东公司)", 7, 2, 5, 4.2, 0, 1, 0, 1, 3, 1,
                    0.2),
                ("后台支撑组", 1, 0, 1, 1.0, 1, 0, 0, 0, 0, 1, 1.0),
                ("(No team)", 1, 0, 1, None, 0, 0, 0, 0, 0, 0, 0.0),
                ])

        sheets = run_report(PERIOD)
        try:
            pool.get('telecom.service_request.visit')
        except KeyError:
            # the return visits are not there yet: no satisfaction sheets
            self.assertEqual(list(sheets), ['Complaint Rate',
                    'Complaint Rate by Topic', 'SLA by Team'])
        else:
            self.assertIn('Satisfaction by Team', sheets)
            self.assertIn('Satisfaction by Type', sheets)
            self.assertEqual(sheets['Satisfaction by Type'][HEADER][:5],
                ('Request Type', 'Visits', 'Unreachable', 'Answered',
                    'Average Score'))

    @with_transaction()
    def test_filters(self):
        "The wizard asks a period; other companies stay out"
        pool = Pool()
        Wizard = pool.get('telecom.service.report', type='wizard')
        Company = pool.get('company.company')
        Party = pool.get('party.party')
        company = in_shanghai()
        Start = pool.get('telecom.service.report.start')
        defaults = Start.default_get(['from_date', 'to_date',
                'region_level'])
        self.assertEqual(defaults['region_level'], 'city')
        session_id, _, _ = Wizard.create()
        wizard = Wizard(session_id)
        self.assertEqual(defaults['from_date'].day, 1)
        self.assertEqual(
            (defaults['to_date'] + dt.timedelta(days=1)).day, 1)
        wizard.start.from_date = dt.date(2026, 11, 30)
        wizard.start.to_date = dt.date(2026, 10, 1)
        wizard.start.company = company
        wizard.start.region_level = 'city'
        with self.assertRaises(ServiceError):
            wizard.do_export({})
        wizard.start.from_date = dt.date(2026, 10, 1)
        wizard.start.to_date = dt.date(2026, 11, 30)
        _, data = wizard.do_export({})
        self.assertEqual(data, {**PERIOD, 'company': company.id})
        sheets = run_report(data)
        self.assertIn("Company: %s" % company.rec_name,
            sheets['SLA by Team'][1][0])

        party, = Party.create([{'name': "中国移动通信集团北京有限公司"}])
        beijing, = Company.create([{'party': party.id,
                    'currency': company.currency.id}])
        with self.assertRaises(ServiceError):
            run_report({**PERIOD, 'company': beijing.id})
