"""The usage table partitioned by month on PostgreSQL: one partition per
calendar month, created before the rows of the month arrive, a month's query
reading only its partition, old months detached; a plain table on SQLite."""
import datetime as dt
import json
import unittest
from unittest.mock import patch

from sql import Table
from sql.aggregate import Count

from trytond import backend
from trytond.exceptions import UserError
from trytond.model import Unique
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_billing.exceptions import BillingError, UsageImportError
from crm_billing.tests.usage_csv import COLUMNS, csv_bytes
from crm_telecom.tests.tools import create_account, create_customer, line_since

POSTGRESQL = backend.name == 'postgresql'
TODAY = dt.date(2026, 12, 15)


def call(key, start, number='13800138000'):
    return {'record_id': key, 'number': number, 'type': 'voice',
        'start': start, 'duration': 61, 'other_party': '13912345678'}


def usage(subscriber, key, start):
    "A usage record written through the ORM"
    Usage = Pool().get('telecom.usage')
    record, = Usage.create([{'subscriber': subscriber.id, 'type': 'voice',
                'start': start, 'duration': 61, 'units': 2,
                'source_key': key}])
    return record


def fetch(query, params=()):
    cursor = Transaction().connection.cursor()
    cursor.execute(query, params)
    return cursor.fetchall()


def plan_relations(query, params=()):
    "The tables the plan of a query reads (EXPLAIN, not run)"
    plan, = fetch('EXPLAIN (FORMAT JSON) ' + query, params)[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if 'Relation Name' in node:
                found.add(node['Relation Name'])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(plan)
    return found


class Statements:
    """The statements run meanwhile, on the transaction's cursors and on
    the client-side cursors Tryton's table handler runs its DDL on"""

    def __enter__(self):
        self.executed = []
        if POSTGRESQL:
            import psycopg
            cursor_class = psycopg.Cursor
        else:
            cursor_class = type(Transaction().connection.cursor())
        execute = cursor_class.execute

        def record(cursor, query, *args, **kwargs):
            if hasattr(query, 'as_string'):
                self.executed.append(query.as_string(cursor))
            else:
                self.executed.append(str(query))
            return execute(cursor, query, *args, **kwargs)
        self._patch = patch.object(cursor_class, 'execute', record)
        self._patch.start()
        return self

    def __exit__(self, *exc):
        self._patch.stop()

    def ddl(self):
        return [q for q in self.executed if q.lstrip().upper().startswith(
                ('CREATE TABLE', 'ALTER', 'DROP', 'LOCK'))]


class UsagePartitionTestCase(unittest.TestCase):
    "Usage partitioned by month"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_billing')

    def today(self, date=TODAY):
        Date = Pool().get('ir.date')
        return patch.object(Date, 'today', return_value=date)

    def done(self, *cycles):
        "Bill runs done for these cycles (their bills do not matter here)"
        BillRun = Pool().get('telecom.bill.run')
        runs = BillRun.create([{'period_start': c} for c in cycles])
        run = BillRun.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*run.update([run.state], ['done'],
                where=run.id.in_([r.id for r in runs])))

    def month_counts(self):
        "{partition: records} of the attached partitions with records"
        return dict(fetch('SELECT tableoid::regclass::text, COUNT(*) '
                'FROM telecom_usage GROUP BY 1'))

    # --- PostgreSQL -------------------------------------------------------

    @unittest.skipUnless(POSTGRESQL, "partitions are PostgreSQL's")
    @with_transaction()
    def test_partitioned_table(self):
        "The table is partitioned by range of start, its keys hold the start"
        Usage = Pool().get('telecom.usage')
        (strategy, key), = fetch("SELECT p.partstrat, "
            "pg_get_partkeydef(p.partrelid) FROM pg_partitioned_table p "
            "WHERE p.partrelid = 'telecom_usage'::regclass")
        self.assertEqual((strategy, key), ('r', 'RANGE (start)'))
        definitions = dict(fetch("SELECT conname, "
                "pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'telecom_usage'::regclass "
                "AND contype IN ('p', 'u')"))
        self.assertEqual(definitions, {
                'telecom_usage_pkey': 'PRIMARY KEY (id, start)',
                'telecom_usage_source_key_unique':
                    'UNIQUE (source_key, start)',
                })
        # the id comes from the identity of the table, as Tryton's do
        (identity,), = fetch("SELECT is_identity FROM "
            "information_schema.columns WHERE table_name = 'telecom_usage' "
            "AND column_name = 'id'")
        self.assertEqual(identity, 'YES')
        self.assertFalse(fetch("SELECT 1 FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'telecom_usage'::regclass "
                "AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'"))
        # the cron (and the module's update) make the current and next month
        with self.today():
            Usage.create_partitions()
        months = {m for m, _, attached in Usage.partitions() if attached}
        self.assertLessEqual({dt.date(2026, 12, 1), dt.date(2027, 1, 1)},
            months)
        bounds = dict(fetch("SELECT c.relname, "
                "pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'telecom_usage'::regclass"))
        self.assertEqual(bounds['telecom_usage_202612'],
            "FOR VALUES FROM ('2026-12-01 00:00:00') "
            "TO ('2027-01-01 00:00:00')")

    @unittest.skipUnless(POSTGRESQL, "partitions are PostgreSQL's")
    @with_transaction()
    def test_rows_in_their_month(self):
        """Records of two months land in their partitions, created before
        the first record of the month"""
        Usage = Pool().get('telecom.usage')
        line = line_since(dt.date(2026, 9, 1))
        self.assertNotIn(dt.date(2026, 10, 1),
            [m for m, _, _ in Usage.partitions()])
        usage(line, 'A', dt.datetime(2026, 10, 31, 23, 59, 59))
        usage(line, 'B', dt.datetime(2026, 11, 1, 0, 0, 0))
        usage(line, 'C', dt.datetime(2026, 11, 30, 12, 0, 0))
        self.assertEqual(self.month_counts(), {
                'telecom_usage_202610': 1, 'telecom_usage_202611': 2})
        self.assertEqual(Usage.search_count([]), 3)
        # the same key in another month is another record
        usage(line, 'A', dt.datetime(2026, 11, 2))
        with self.assertRaises(UserError):
            usage(line, 'A', dt.datetime(2026, 10, 31, 23, 59, 59))

    @unittest.skipUnless(POSTGRESQL, "partitions are PostgreSQL's")
    @with_transaction()
    def test_month_reads_its_partition(self):
        """A query on one month's start range, as the rating runs it (dates
        as parameters), scans only that month's partition"""
        Usage = Pool().get('telecom.usage')
        line = line_since(dt.date(2026, 9, 1))
        for i, month in enumerate([10, 11, 12]):
            usage(line, 'K%s' % i, dt.datetime(2026, month, 5))
        table = Usage.__table__()
        query, params = table.select(Count(table.id),
            where=(table.start >= dt.date(2026, 11, 1))
            & (table.start < dt.date(2026, 12, 1)))
        self.assertEqual(fetch(query, params), [(1,)])
        self.assertEqual(plan_relations(query, params),
            {'telecom_usage_202611'})
        # a cycle from the 15th reads the two months it covers
        query, params = table.select(Count(table.id),
            where=(table.start >= dt.date(2026, 10, 15))
            & (table.start < dt.date(2026, 11, 15)))
        self.assertEqual(plan_relations(query, params),
            {'telecom_usage_202610', 'telecom_usage_202611'})

    @unittest.skipUnless(POSTGRESQL, "partitions are PostgreSQL's")
    @with_transaction()
    def test_detach(self):
        """An old billed month is detached: its records leave the usage
        table and stay in the partition's table; nothing of it is written
        again"""
        Usage = Pool().get('telecom.usage')
        line = line_since(dt.date(2026, 9, 1))
        usage(line, 'OCT', dt.datetime(2026, 10, 5))
        usage(line, 'NOV', dt.datetime(2026, 11, 5))
        with self.today():
            with self.assertRaises(BillingError) as refused:
                Usage.detach_partition(dt.date(2026, 10, 1))
            self.assertEqual(refused.exception.message,
                "The usage of 2026-10 cannot be detached: the bill cycle "
                "starting on 2026-10-01 is not billed yet.")
            self.done(dt.date(2026, 10, 1))
            self.assertEqual(Usage.detach_partition(dt.date(2026, 10, 20)),
                'telecom_usage_202610')
        self.assertEqual([u.source_key for u in Usage.search([])], ['NOV'])
        self.assertEqual(self.month_counts(), {'telecom_usage_202611': 1})
        self.assertEqual(fetch('SELECT source_key FROM telecom_usage_202610'),
            [('OCT',)])
        self.assertIn((dt.date(2026, 10, 1), 'telecom_usage_202610', False),
            Usage.partitions())
        # no record of a detached month is written again
        with self.assertRaises(UsageImportError) as refused:
            usage(line, 'OCT2', dt.datetime(2026, 10, 6))
        self.assertEqual(refused.exception.message,
            "The usage of 2026-10 was detached from the usage table (it is "
            "kept in table telecom_usage_202610): no usage of that month can "
            "be written any more.")

    @unittest.skipUnless(POSTGRESQL, "partitions are PostgreSQL's")
    @with_transaction()
    def test_detach_refused(self):
        """The current month, a month without partition and a month whose
        cycles are not all billed stay"""
        Usage = Pool().get('telecom.usage')
        # a line billed from the 15th: October is in the cycles of
        # 15 September and 15 October
        customer = create_customer(sequence=15)
        account = create_account(customer, bill_cycle_day=15)
        line = line_since(dt.date(2026, 9, 1), customer=customer,
            account=account)
        usage(line, 'OCT', dt.datetime(2026, 10, 20))
        usage(line, 'DEC', dt.datetime(2026, 12, 2))
        with self.today():
            for month, message in [
                    (dt.date(2026, 12, 1), "The usage of 2026-12 cannot be "
                        "detached: only months before the current month "
                        "can be."),
                    (dt.date(2027, 1, 1), "The usage of 2027-01 cannot be "
                        "detached: only months before the current month "
                        "can be."),
                    (dt.date(2025, 5, 1), "There is no usage partition of "
                        "2025-05 to detach."),
                    (dt.date(2026, 10, 1), "The usage of 2026-10 cannot be "
                        "detached: the bill cycle starting on 2026-09-15 is "
                        "not billed yet."),
                    ]:
                with self.assertRaises(BillingError) as refused:
                    Usage.detach_partition(month)
                self.assertEqual(refused.exception.message, message)
            self.done(dt.date(2026, 9, 15))
            with self.assertRaises(BillingError) as refused:
                Usage.detach_partition(dt.date(2026, 10, 1))
            self.assertIn('2026-10-15', refused.exception.message)
            self.done(dt.date(2026, 10, 15))
            Usage.detach_partition(dt.date(2026, 10, 1))
            # an empty month has nothing to bill
            Usage.ensure_partitions([dt.date(2026, 8, 1)])
            Usage.detach_partition(dt.date(2026, 8, 1))
        self.assertEqual(self.month_counts(), {'telecom_usage_202612': 1})

    @unittest.skipUnless(POSTGRESQL, "partitions are PostgreSQL's")
    @with_transaction()
    def test_detach_in_chinese(self):
        "The refusal is told in Chinese to a Chinese user"
        from crm_telecom.tests.tools import load_chinese
        Usage = Pool().get('telecom.usage')
        load_chinese('crm_billing')
        with self.today(), Transaction().set_context(language='zh_CN'):
            with self.assertRaises(BillingError) as refused:
                Usage.detach_partition(dt.date(2026, 12, 1))
        self.assertEqual(refused.exception.message,
            "不能分离 2026-12 的话单：只能分离当月之前的月份。")

    @unittest.skipUnless(POSTGRESQL, "partitions are PostgreSQL's")
    @with_transaction()
    def test_no_ddl_when_partitions_exist(self):
        "Partitions that exist are found in the catalogue: no DDL"
        Usage = Pool().get('telecom.usage')
        months = [dt.date(2025, 1, 1), dt.datetime(2025, 2, 28, 23),
            dt.datetime(2025, 2, 1)]
        with Statements() as statements:
            Usage.ensure_partitions(months)
        # the lock, then a table made and attached for each month
        self.assertEqual(len(statements.ddl()), 5)
        with Statements() as statements:
            Usage.ensure_partitions(months)
            Usage.ensure_partitions([])
        self.assertEqual(statements.ddl(), [])
        self.assertEqual(len(statements.executed), 1)

    @unittest.skipUnless(POSTGRESQL, "partitions are PostgreSQL's")
    @with_transaction()
    def test_register_again(self):
        """Updating the module again changes nothing: no table, partition,
        column, key or index made or dropped, the records kept"""
        Usage = Pool().get('telecom.usage')
        line = line_since(dt.date(2026, 9, 1))
        usage(line, 'A', dt.datetime(2026, 10, 5))
        usage(line, 'B', dt.datetime(2026, 11, 5))

        def schema():
            return (Usage.partitions(),
                fetch("SELECT indexrelid::regclass::text FROM pg_index "
                    "WHERE indrelid = 'telecom_usage'::regclass ORDER BY 1"),
                fetch("SELECT conname, pg_get_constraintdef(oid) "
                    "FROM pg_constraint "
                    "WHERE conrelid = 'telecom_usage'::regclass ORDER BY 1"),
                fetch("SELECT attname, atttypid, attnotnull "
                    "FROM pg_attribute WHERE attnum > 0 "
                    "AND attrelid = 'telecom_usage'::regclass ORDER BY 1"))
        before = schema()
        with self.today(dt.date(2026, 11, 10)), Statements() as statements:
            Usage.__register__('crm_billing')
            Usage._update_sql_indexes(concurrently=True)
        self.assertEqual(statements.ddl(), [])
        self.assertEqual(schema(), before)
        self.assertEqual(self.month_counts(), {
                'telecom_usage_202610': 1, 'telecom_usage_202611': 1})

    @unittest.skipUnless(POSTGRESQL, "partitions are PostgreSQL's")
    @with_transaction()
    def test_migrate_plain_table(self):
        """A database from before the partitions: its plain table becomes
        the partitioned one, every record kept with its id"""
        pool = Pool()
        Usage = pool.get('telecom.usage')
        line = line_since(dt.date(2026, 9, 1))
        table = 'telecom_usage_before'
        old = Table(table)
        t = Usage.__table__()
        # the table as the module made it before: plain, key alone unique
        with patch.object(Usage, '_table', table), \
                patch.object(Usage, '_create_partitioned_table',
                    return_value=None), \
                patch.object(Usage, '_sql_constraints', [
                        ('source_key_unique', Unique(t, t.source_key),
                            'crm_billing.msg_usage_source_key_unique')]), \
                Statements() as statements:
            Usage.__register__('crm_billing')
            Usage._update_sql_indexes()
        # (what the table handler runs is seen by the statements' watch)
        self.assertIn('CREATE TABLE "%s" ()' % table, statements.ddl())
        self.assertEqual(fetch("SELECT relkind FROM pg_class "
                "WHERE relname = %s", (table,)), [('r',)])
        cursor = Transaction().connection.cursor()
        rows = [(line.id, 'voice', dt.datetime(2026, month, 3), 1, key)
            for month, key in [(9, 'S'), (10, 'O1'), (10, 'O2'), (11, 'N')]]
        cursor.execute(*old.insert([old.subscriber, old.type, old.start,
                    old.units, old.source_key], rows))
        before = fetch('SELECT id, start, source_key FROM %s ORDER BY id'
            % table)
        with patch.object(Usage, '_table', table), self.today():
            Usage.__register__('crm_billing')
            Usage._update_sql_indexes()
            self.assertEqual(fetch('SELECT id, start, source_key FROM %s '
                    'ORDER BY id' % table), before)
            self.assertEqual(dict(fetch('SELECT tableoid::regclass::text, '
                        'COUNT(*) FROM %s GROUP BY 1' % table)), {
                    table + '_202609': 1, table + '_202610': 2,
                    table + '_202611': 1})
            self.assertEqual({n for _, n, _ in Usage.partitions()},
                {table + s for s in ['_202609', '_202610', '_202611',
                        '_202612', '_202701']})
            (definition,), = fetch("SELECT pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE conname = %s",
                (table + '_source_key_unique',))
            self.assertEqual(definition, 'UNIQUE (source_key, start)')
            self.assertEqual(fetch("SELECT relname FROM pg_class "
                    "WHERE relname LIKE %s", (table + '_unpartitioned%',)),
                [])
            # new records go on from the last id
            record = usage(line, 'NEW', dt.datetime(2026, 11, 4))
            self.assertGreater(record.id, max(r[0] for r in before))
            # and a second update changes nothing
            with Statements() as statements:
                Usage.__register__('crm_billing')
            self.assertEqual(statements.ddl(), [])

    # --- both backends ----------------------------------------------------

    @with_transaction()
    def test_import_skips_known_records(self):
        """A file over two months is written into their partitions and a
        record already imported is skipped, by its key"""
        Usage = Pool().get('telecom.usage')
        line_since(dt.date(2026, 9, 1))
        rows = [call('R1', dt.datetime(2026, 10, 31, 23, 0)),
            call('R2', dt.datetime(2026, 11, 1, 8, 0)),
            call('R3', dt.datetime(2026, 11, 2, 8, 0))]
        self.assertEqual(Usage.import_csv(csv_bytes(rows, columns=COLUMNS)),
            (3, 0))
        more = rows + [call('R4', dt.datetime(2026, 11, 3, 8, 0))]
        self.assertEqual(Usage.import_csv(csv_bytes(more, columns=COLUMNS)),
            (1, 3))
        self.assertEqual(Usage.search_count([]), 4)
        if POSTGRESQL:
            self.assertEqual(self.month_counts(), {
                    'telecom_usage_202610': 1, 'telecom_usage_202611': 3})
            # the keys are found by the unique index, which leads with them
            cursor = Transaction().connection.cursor()
            cursor.execute('SET LOCAL enable_seqscan = off')
            plan = ' '.join(r[0] for r in fetch(
                    'EXPLAIN SELECT source_key FROM telecom_usage '
                    'WHERE source_key = ANY(%s)', (['R1', 'R9'],)))
            self.assertIn('telecom_usage_202611_source_key_start_key', plan)
        else:
            plan = ' '.join(str(r[-1]) for r in fetch(
                    'EXPLAIN QUERY PLAN SELECT source_key FROM telecom_usage '
                    "WHERE source_key IN ('R1', 'R9')"))
            self.assertIn('telecom_usage_source_key_unique', plan)

    # --- SQLite -----------------------------------------------------------

    @unittest.skipIf(POSTGRESQL, "SQLite's plain table")
    @with_transaction()
    def test_sqlite_plain_table(self):
        "SQLite keeps one plain table: no partition to make or detach"
        Usage = Pool().get('telecom.usage')
        self.assertEqual(fetch("SELECT type FROM sqlite_master "
                "WHERE name = 'telecom_usage'"), [('table',)])
        self.assertEqual([r[2] for r in fetch(
                    'PRAGMA index_info("telecom_usage_source_key_unique")')],
            ['source_key', 'start'])
        with Statements() as statements:
            Usage.ensure_partitions([dt.date(2026, 10, 1)])
            Usage.create_partitions()
        self.assertEqual(statements.executed, [])
        self.assertEqual(Usage.partitions(), [])
        with self.assertRaises(BillingError):
            Usage.detach_partition(dt.date(2026, 10, 1))

    @unittest.skipIf(POSTGRESQL, "SQLite's plain table")
    @with_transaction()
    def test_sqlite_migrate_source_key(self):
        "The unique key of a database from before gets the start"
        Usage = Pool().get('telecom.usage')
        cursor = Transaction().connection.cursor()
        # SQLite runs DDL outside a transaction if none is open: open it
        # with a statement that writes nothing, so the test's rollback undoes
        # the DDL too
        cursor.execute('UPDATE "telecom_usage" SET id = id WHERE 1 = 0')
        self.assertTrue(Transaction().connection.in_transaction)
        cursor.execute('DROP INDEX "telecom_usage_source_key_unique"')
        cursor.execute('CREATE UNIQUE INDEX "telecom_usage_source_key_unique" '
            'ON "telecom_usage" ("source_key")')
        Usage.__register__('crm_billing')
        self.assertEqual([r[2] for r in fetch(
                    'PRAGMA index_info("telecom_usage_source_key_unique")')],
            ['source_key', 'start'])
