"Customer 360° view, subscriber plan history, the printed and Excel bill"
import datetime as dt
import io
import logging
import unittest
import zipfile
from contextlib import contextmanager
from decimal import Decimal as D

import openpyxl
from lxml import etree

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.tools import (
    BEFORE,
    CYCLE,
    at,
    create_account,
    create_bill,
    create_customer,
    create_payment,
    line_since,
    load_chinese,
    usage,
)


@contextmanager
def count_queries():
    "Count the SQL statements run in the current transaction"
    counter = [0]

    def count(*args):
        counter[0] += 1
    connection = Transaction().connection
    if hasattr(connection, 'set_trace_callback'):  # SQLite
        connection.set_trace_callback(count)
        try:
            yield counter
        finally:
            connection.set_trace_callback(None)
    else:  # PostgreSQL logs each statement at debug level
        logger = logging.getLogger('trytond.backend.postgresql.database')

        class Handler(logging.Handler):
            def emit(self, record):
                count()
        handler, level = Handler(), logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            yield counter
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)


class ViewsTestCase(unittest.TestCase):
    "Customer 360°, plan history, bill lines and the Excel bill"

    @classmethod
    def setUpClass(cls):
        activate_module(['crm_billing', 'crm_provisioning'])

    def line(self, number='13800138000', customer=None, account=None,
            plan="神州行 18元畅聊卡"):
        return line_since(BEFORE, number=number, plan=plan,
            customer=customer, account=account)

    def bill_cycle(self, period_start=CYCLE):
        BillRun = Pool().get('telecom.bill.run')
        run, = BillRun.create([{'period_start': period_start}])
        BillRun.process([run], commit=False)
        return run

    def bill_of(self, subscriber, period_start=CYCLE):
        Bill = Pool().get('telecom.bill')
        bill, = Bill.search([
                ('account', '=', subscriber.account.id),
                ('period_start', '=', period_start),
                ])
        return bill

    def xlsx(self, bills):
        pool = Pool()
        BillXlsx = pool.get('telecom.bill.xlsx', type='report')
        ext, content, direct_print, name = BillXlsx.execute(
            [b.id for b in bills], {})
        self.assertEqual(ext, 'xlsx')
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        sheet, = workbook.worksheets
        return sheet, [list(row) for row in sheet.iter_rows(
                    values_only=True)], name

    # --- customer 360° ------------------------------------------------

    @with_transaction()
    def test_360_bills(self):
        "The 360° view lists the payer's bills, newest first, 12 cycles"
        Party = Pool().get('party.party')
        customer = create_customer(sequence=11)
        other = create_customer(name="李四", sequence=12)
        account = create_account(customer)
        second = create_account(customer)
        other_account = create_account(other)
        bills = []
        for months in range(14):
            start = dt.date(2024 + months // 12, months % 12 + 1, 1)
            bills.append(create_bill(account, '10.00',
                    start + dt.timedelta(days=45), period_start=start))
        last = bills[-1].period_start
        same_cycle = create_bill(second, '5.00', dt.date(2025, 4, 1),
            period_start=last)
        other_bill = create_bill(other_account, '7.00', dt.date(2025, 4, 1),
            period_start=last)

        customer, other = Party.browse([customer.id, other.id])
        shown = list(customer.bills)
        self.assertEqual(len(shown), 13)  # 12 cycles, 2 bills in the last
        self.assertEqual({b.period_start for b in shown},
            {b.period_start for b in bills[-12:]})
        self.assertEqual(shown[0].period_start, last)
        self.assertIn(same_cycle, shown)
        self.assertEqual(
            [b.period_start for b in shown],
            sorted((b.period_start for b in shown), reverse=True))
        self.assertEqual(list(other.bills), [other_bill])

    @with_transaction()
    def test_360_payments(self):
        "The 360° view lists the payer's payments, newest first"
        Party = Pool().get('party.party')
        customer = create_customer(sequence=21)
        other = create_customer(name="李四", sequence=22)
        account = create_account(customer)
        other_account = create_account(other)
        first = create_payment(account, '50.00', kind='top_up',
            channel='app', method='wechat', date=dt.date(2026, 3, 1))
        second = create_payment(account, '20.00', kind='top_up',
            channel='business_hall', method='cash',
            date=dt.date(2026, 3, 5))
        theirs = create_payment(other_account, '30.00', kind='top_up',
            channel='app', method='alipay', date=dt.date(2026, 3, 2))

        customer, other = Party.browse([customer.id, other.id])
        self.assertEqual(list(customer.payments), [second, first])
        self.assertEqual(list(other.payments), [theirs])
        self.assertEqual(customer.total_balance, D('70.00'))

    @with_transaction()
    def test_360_open_provisioning_requests(self):
        "Pending, sent and dead outbox requests of the customer's lines"
        pool = Pool()
        Party = pool.get('party.party')
        Request = pool.get('telecom.provisioning.request')
        Configuration = pool.get('telecom.configuration')
        subscriber = self.line('13800138001')
        other = self.line('13800138002')
        # the activations were acknowledged locally: nothing open
        self.assertEqual(list(subscriber.customer.open_provisioning_requests),
            [])

        configuration = Configuration(1)
        configuration.sms_url = 'http://sms.invalid/send'
        configuration.save()
        pending, sent, dead = Request.browse(Request.notify([
                {'subscriber': subscriber, 'event': 'reminder',
                    'text': "Please pay"}
                for _ in range(3)]))
        Request._set_state([sent], 'sent', ['pending'])
        Request._set_state([dead], 'dead', ['pending'])
        theirs, = Request.browse(Request.notify([{'subscriber': other,
                        'event': 'reminder', 'text': "Please pay"}]))

        customer, other_customer = Party.browse(
            [subscriber.customer.id, other.customer.id])
        self.assertEqual(list(customer.open_provisioning_requests),
            [dead, sent, pending])
        self.assertEqual(list(other_customer.open_provisioning_requests),
            [theirs])
        values, = Party.read([customer.id], ['open_provisioning_requests',
                'bills', 'payments', 'total_balance'])
        self.assertEqual(values['open_provisioning_requests'],
            (dead.id, sent.id, pending.id))

    @with_transaction()
    def test_360_query_count(self):
        "The 360° fields cost the same queries for 2 customers or 6"
        Party = Pool().get('party.party')
        customers = []
        for i in range(8):
            customer = create_customer(name="客户%s" % i, sequence=40 + i)
            account = create_account(customer)
            create_bill(account, '10.00', dt.date(2026, 5, 15),
                period_start=dt.date(2026, 4, 1))
            create_payment(account, '10.00', kind='payment',
                channel='app', method='wechat', date=dt.date(2026, 5, 2))
            customers.append(customer.id)
        names = ['bills', 'payments', 'open_provisioning_requests',
            'total_balance']
        Party.read(customers[:1], names)  # warm the access caches

        def queries(ids):
            with count_queries() as counter:
                rows = Party.read(ids, names)
            self.assertTrue(all(len(r['bills']) == 1 for r in rows))
            self.assertTrue(all(len(r['payments']) == 1 for r in rows))
            self.assertGreater(counter[0], 0)
            return counter[0]
        self.assertEqual(queries(customers[1:3]), queries(customers[3:9]))

    @with_transaction()
    def test_360_form_view(self):
        "The 360° form shows balance, bills, payments and open requests"
        pool = Pool()
        Party = pool.get('party.party')
        ModelData = pool.get('ir.model.data')
        view_id = ModelData.get_id('crm_telecom', 'customer_view_form')
        view = Party.fields_view_get(view_id, 'form')
        for name in ['total_balance', 'bills', 'payments',
                'open_provisioning_requests']:
            self.assertIn(name, view['fields'])
        arch = etree.fromstring(view['arch'])
        bills, = arch.xpath('//field[@name="bills"]')
        self.assertEqual(bills.get('view_ids').split(','), [
                str(ModelData.get_id('crm_billing', 'bill_view_list')),
                str(ModelData.get_id('crm_billing', 'bill_view_form'))])

    @with_transaction()
    def test_subscriber_plan_history_page(self):
        "The line form has its plan history"
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        view = Subscriber.fields_view_get(None, 'form')
        self.assertIn('plan_periods', view['fields'])

    @with_transaction()
    def test_bill_line_form_shows_usage(self):
        "Opening a line of a bill shows why and the usage it came from"
        pool = Pool()
        Bill = pool.get('telecom.bill')
        BillLine = pool.get('telecom.bill.line')
        Keyword = pool.get('ir.action.keyword')
        bill_form = Bill.fields_view_get(None, 'form')
        self.assertIn('lines', bill_form['fields'])
        line_form = BillLine.fields_view_get(None, 'form')
        self.assertIn('description', line_form['fields'])
        self.assertIn('usages', line_form['fields'])
        relates = {(k['res_model'], k['name']) for k in Keyword.get_keyword(
                    'form_relate', ('telecom.bill', -1))}
        self.assertIn(('telecom.bill.line', "Lines"), relates)
        self.assertIn(('telecom.usage', "Usage Records"), relates)
        relates = {k['res_model'] for k in Keyword.get_keyword(
                    'form_relate', ('telecom.bill.line', -1))}
        self.assertIn('telecom.usage', relates)
        prints = {k['report_name'] for k in Keyword.get_keyword(
                    'form_print', ('telecom.bill', -1))}
        self.assertIn('telecom.bill.xlsx', prints)
        self.assertIn('telecom.bill', prints)

    # --- the bill the customer receives (ODT) --------------------------

    def odt_text(self, bills, language=None):
        "The text of the printed bills, paragraph by paragraph"
        BillReport = Pool().get('telecom.bill', type='report')
        with Transaction().set_context(language=language or 'en'):
            ext, content, direct_print, name = BillReport.execute(
                [b.id for b in bills], {})
        self.assertEqual(ext, 'odt')
        with zipfile.ZipFile(io.BytesIO(content)) as odt:
            self.assertEqual(odt.read('mimetype'),
                b'application/vnd.oasis.opendocument.text')
            tree = etree.fromstring(odt.read('content.xml'))
        namespace = tree.nsmap['text']
        return [''.join(p.itertext()) for p in tree.iter(
                '{%s}p' % namespace, '{%s}h' % namespace)]

    @with_transaction()
    def test_bill_odt(self):
        "The printed bill names the customer and explains every line"
        pool = Pool()
        Usage = pool.get('telecom.usage')
        customer = create_customer(name="李小龙")
        subscriber = self.line(customer=customer)
        Usage.create([usage(subscriber, 'voice', at(3), duration=137 * 60)])
        self.bill_cycle()
        bill = self.bill_of(subscriber)
        self.assertEqual(bill.amount, D('25.03'))

        text = self.odt_text([bill])
        self.assertIn("Monthly Bill", text)
        self.assertIn("李小龙", text)
        self.assertIn(bill.code, text)
        self.assertIn(bill.account.rec_name, text)
        for line in bill.lines:
            self.assertIn(line.description, text)
        voice, = [l for l in bill.lines if l.kind == 'voice']
        self.assertTrue(voice.description.startswith(
                "Voice beyond plan 37 min × 0.19 yuan = 7.03 yuan"))
        # the total and what the account owes, in the suite's money format
        self.assertEqual(text.count('25.03'), 3)
        self.assertEqual(text.count('-25.03'), 1)
        self.assertIn("Please pay the amount above by the due date to keep "
            "your lines in service.", text)

        # paid: the balance covers it
        create_payment(subscriber.account, '30')
        text = self.odt_text([bill])
        self.assertIn('4.97', text)
        self.assertIn("Your balance covers this bill: there is nothing more "
            "to pay.", text)

    @with_transaction()
    def test_bill_odt_chinese(self):
        "Bills print in the user's language or in the payer's, one by one"
        Lang = Pool().get('ir.lang')
        load_chinese('crm_billing')
        english, = Lang.search([('code', '=', 'en')])
        first = self.line('13800138010')
        second = self.line('13800138011',
            customer=create_customer(name="Bruce Lee", sequence=11,
                lang=english.id))
        self.bill_cycle()
        bills = [self.bill_of(first), self.bill_of(second)]
        text = self.odt_text(bills, language='zh_CN')
        chinese_part = text[:text.index("Monthly Bill")]
        self.assertEqual(text.count("月度账单"), 1)
        for label in ["费用明细", "应缴金额", "账户余额", "缴费截止日"]:
            self.assertIn(label, chinese_part)
        self.assertIn("套餐月费 神州行 18元畅聊卡 = 18.00 元", chinese_part)
        self.assertIn("Plan Fee 神州行 18元畅聊卡 = 18.00 yuan",
            text[text.index("Monthly Bill"):])
        self.assertEqual([t for t in text if t in {b.code for b in bills}],
            [b.code for b in bills])

    # --- Excel bill ---------------------------------------------------

    @with_transaction()
    def test_bill_xlsx(self):
        "The Excel bill has the header, every line's reason and the total"
        pool = Pool()
        Usage = pool.get('telecom.usage')
        subscriber = self.line()
        Usage.create([usage(subscriber, 'voice', at(3), duration=100 * 60),
                usage(subscriber, 'voice', at(5), duration=36 * 60 + 1),
                usage(subscriber, 'data', at(6), volume=512 * 1024)])
        self.bill_cycle()
        bill = self.bill_of(subscriber)
        self.assertEqual(bill.amount, D('25.03'))

        sheet, rows, name = self.xlsx([bill])
        self.assertEqual(sheet.title, bill.code)
        self.assertIn(bill.code, name)
        self.assertEqual(rows[0][0], "Bill")
        columns = ["Line", "Kind", "Why", "Used", "Included",
            "Charged Units", "Unit", "Rate", "Amount"]
        start = rows.index(columns)
        header = {r[0]: r[1] for r in rows[2:start] if r[0]}
        self.assertEqual(header['Code'], bill.code)
        self.assertEqual(header['Account'], bill.account.rec_name)
        self.assertEqual(header['Payer'], subscriber.customer.rec_name)
        self.assertEqual(header['Period'], '2026-11-01 ~ 2026-11-30')
        self.assertEqual(header['Issued'].date(), bill.date)
        self.assertEqual(header['Due'].date(), bill.due_date)
        self.assertEqual(header['Total'], 25.03)

        lines = []
        for row in rows[start + 1:]:
            if row[0] == "Total":
                total = row[-1]
                break
            lines.append(row)
        self.assertEqual(len(lines), len(bill.lines))
        self.assertEqual({r[2] for r in lines},
            {l.description for l in bill.lines})
        voice, = [r for r in lines if r[1] == "Voice"]
        self.assertEqual(voice[0], '13800138000')
        self.assertEqual(voice[3:9], [137, 100, 37, "min", 0.19, 7.03])
        self.assertTrue(voice[2].startswith(
                "Voice beyond plan 37 min × 0.19 yuan = 7.03 yuan"))
        data, = [r for r in lines if r[1] == "Data"]
        self.assertEqual((data[3], data[6]), (512, "MB"))
        self.assertAlmostEqual(total, 25.03)
        self.assertAlmostEqual(sum(r[-1] for r in lines), 25.03)

    @with_transaction()
    def test_bill_xlsx_several(self):
        "Several bills print as one section each and a total of them all"
        pool = Pool()
        Usage = pool.get('telecom.usage')
        first = self.line('13800138010')
        second = self.line('13800138011')
        Usage.create([usage(second, 'voice', at(3), duration=101 * 60)])
        self.bill_cycle()
        bills = [self.bill_of(first), self.bill_of(second)]
        self.assertEqual([b.amount for b in bills], [D('18.00'), D('18.19')])

        sheet, rows, name = self.xlsx(bills)
        self.assertEqual(sheet.title, "Bill")
        codes = [r[1] for r in rows if r[0] == "Code"]
        self.assertEqual(codes, [b.code for b in bills])
        totals = [r[-1] for r in rows if r[0] == "Total" and r[1] is None]
        self.assertEqual(totals, [18.0, 18.19])
        self.assertEqual(rows[-1][0], "Total of 2 bills")
        self.assertAlmostEqual(rows[-1][-1], 36.19)
        numbers = {r[0] for r in rows if r[1] == "Plan Fee"}
        self.assertEqual(numbers, {'13800138010', '13800138011'})
