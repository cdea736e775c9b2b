"Business codes are unique, also next to generated data; the bulk writer"
import datetime as dt
import unittest
from decimal import Decimal

from trytond import backend
from trytond.i18n import gettext
from trytond.model.exceptions import SQLConstraintError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_telecom.bulk import BulkWriter, reserve_codes
from crm_telecom.tests.tools import (
    activation,
    create_account,
    create_customer,
    create_numbers,
    load_chinese,
    setup_company,
    setup_reference,
)


class CodesTestCase(unittest.TestCase):
    "Codes of accounts and orders"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    @with_transaction()
    def test_account_code_unique(self):
        "The database refuses a second account with a code (said in Chinese)"
        load_chinese('crm_telecom')
        Account = Pool().get('telecom.account')
        first = create_account(create_customer(sequence=1))
        second = create_account(create_customer(name="李四", sequence=2))
        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(
                gettext('crm_telecom.msg_account_code_unique'),
                "已有其他账户使用此账户编号，账户编号不能重复。")
        message = gettext('crm_telecom.msg_account_code_unique')
        with self.assertRaises(SQLConstraintError) as cm:
            Account.write([second], {'code': first.code})
        self.assertEqual(cm.exception.message, message)

    @with_transaction()
    def test_order_code_unique(self):
        "The database refuses a second order with a code"
        Order = Pool().get('telecom.order')
        regions, brands, products = setup_reference()
        customer = create_customer()
        first, second = [activation(customer, number, brands['SZX'],
                products["神州行 18元畅聊卡"])
            for number in create_numbers('13800138000', '13800138001')]
        self.assertNotEqual(first.code, second.code)
        with self.assertRaises(SQLConstraintError) as cm:
            Order.write([second], {'code': first.code})
        self.assertIn("order codes are unique", cm.exception.message)


class BulkWriterTestCase(unittest.TestCase):
    "The bulk writer"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    @with_transaction()
    def test_ids(self):
        "Rows get the ids the writer returns, in order, past the ORM's"
        pool = Pool()
        Number = pool.get('telecom.number')
        before, = create_numbers('13700000000')
        company = before.company.id
        writer = BulkWriter(Number, ['number', 'grade', 'state', 'company'],
            ids=True)
        rows = [('137%08d' % i, 'ordinary', 'available', company)
            for i in range(1, 1501)]
        ids = writer.write(rows)
        ids += writer.write([('13799999999', 'premium', 'available',
                    company)])
        self.assertEqual(writer.rows, 1501)
        self.assertEqual(len(set(ids)), 1501)
        self.assertGreater(min(ids), before.id)
        numbers = Number.browse(ids)
        self.assertEqual([n.number for n in numbers],
            [r[0] for r in rows] + ['13799999999'])
        self.assertEqual(numbers[-1].grade, 'premium')
        self.assertEqual({n.create_uid.id for n in numbers},
            {Transaction().user})
        self.assertTrue(all(n.create_date for n in numbers))
        after, = create_numbers('13600000001')
        self.assertGreater(after.id, max(ids))

    @with_transaction()
    def test_typed_values(self):
        "Dates and amounts come back as the ORM reads them"
        pool = Pool()
        Account = pool.get('telecom.account')
        Number = pool.get('telecom.number')
        party = create_customer()
        company = party.company.id
        accounts = BulkWriter(Account, ['code', 'payer', 'payment_type',
                'balance', 'credit_limit', 'bill_cycle_day', 'state',
                'active', 'company'], ids=True)
        account_id, = accounts.write([('X1', party.id, 'postpaid',
                    Decimal('-12.30'), Decimal('200'), 15, 'active', True,
                    company)])
        account = Account(account_id)
        self.assertEqual((account.balance, account.bill_cycle_day),
            (Decimal('-12.30'), 15))
        BulkWriter(Number, ['number', 'grade', 'state', 'cooling_until',
                'company']).write([('13700000002', 'ordinary', 'cooling',
                    dt.date(2026, 12, 24), company)])
        number, = Number.search([('number', '=', '13700000002')])
        self.assertEqual(number.cooling_until, dt.date(2026, 12, 24))

    @with_transaction()
    def test_reserve_codes(self):
        "Codes taken at once are those the sequence would have given"
        Configuration = Pool().get('telecom.configuration')
        sequence = Configuration(1).account_sequence
        first = sequence.get()
        number = int(first[1:])
        codes = reserve_codes(sequence, 3)
        self.assertEqual(codes, ['A%09d' % (number + i) for i in [1, 2, 3]])
        self.assertEqual(sequence.get(), 'A%09d' % (number + 4))

    @unittest.skipUnless(backend.name == 'postgresql', "COPY")
    @with_transaction()
    def test_copy_on_postgresql(self):
        "PostgreSQL rows go through COPY"
        from unittest.mock import patch
        Number = Pool().get('telecom.number')
        cursor_class = type(Transaction().connection.cursor())
        copy = cursor_class.copy
        statements = []

        def spy(cursor, statement, *args, **kwargs):
            statements.append(statement)
            return copy(cursor, statement, *args, **kwargs)
        company = setup_company().id
        with patch.object(cursor_class, 'copy', spy):
            BulkWriter(Number, ['number', 'grade', 'state', 'company']).write(
                [('13700000003', 'ordinary', 'available', company)])
        self.assertEqual(len(statements), 1)
        self.assertTrue(statements[0].startswith('COPY "telecom_number"'))


def load_tests(loader, tests, pattern):
    suite = unittest.TestSuite()
    for case in [CodesTestCase, BulkWriterTestCase]:
        suite.addTests(loader.loadTestsFromTestCase(case))
    return suite
