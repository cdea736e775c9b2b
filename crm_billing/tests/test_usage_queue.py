"""A usage import run by the queue's task, with real commits.

The import is taken (running) in a commit of its own, the rows read are
committed while the file is read and seen by other transactions before any
usage is, and the usage and the outcome are one transaction: a task that
dies leaves no usage, and the import runs again."""
import datetime as dt
import json
import unittest
from unittest.mock import patch

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction
from trytond.worker import run_task

from crm_billing import usage_file, usage_import
from crm_billing.tests.usage_csv import COLUMNS, csv_bytes
from crm_telecom.bulk import BulkWriter
from crm_telecom.tests.tools import line_since


def rows(count, first=0):
    return [{'record_id': 'Q%s' % i, 'number': '13800138000',
            'type': 'voice', 'start': dt.datetime(2026, 11, 3, 9, i % 60,
                i // 60), 'duration': 61, 'other_party': '13912345678'}
        for i in range(first, first + count)]


@unittest.skipIf(DB_NAME == ':memory:',
    "commits need a database other connections can see")
class UsageImportQueueTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        drop_db()
        activate_module('crm_billing')
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            User = pool.get('res.user')
            ModelData = pool.get('ir.model.data')
            line_since(dt.date(2026, 10, 1), number='13800138000')
            cls.billing_id, = [u.id for u in User.create([{
                            'login': 'billing_queue',
                            'groups': [('add', [ModelData.get_id(
                                            'crm_telecom',
                                            'group_billing')])]}])]
            transaction.commit()

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def press(self, name, data):
        "A new import pressed by the billing operator: (import id, task id)"
        with Transaction().start(DB_NAME, self.billing_id,
                context={'_check_access': True}) as transaction:
            pool = Pool()
            UsageImport = pool.get('telecom.usage.import')
            Queue = pool.get('ir.queue')
            import_, = UsageImport.create([{'name': name, 'file': data}])
            UsageImport.import_([import_])
            task_ids = list(transaction.tasks)
            transaction.tasks.clear()
            task, = Queue.search([('id', 'in', task_ids)])
            self.assertEqual(task.data['method'], 'process')
            return import_.id, task.id

    def outside(self, import_id):
        "(state, rows read, rows, usage of the import) as others see them"
        with Transaction(new=True).start(DB_NAME, 0, readonly=True):
            pool = Pool()
            UsageImport = pool.get('telecom.usage.import')
            Usage = pool.get('telecom.usage')
            import_ = UsageImport(import_id)
            return (import_.state, import_.rows_read, import_.rows,
                Usage.search_count([('import_', '=', import_id)]))

    def run_again(self, import_id):
        with Transaction().start(DB_NAME, self.billing_id,
                context={'_check_access': True}) as transaction:
            UsageImport = Pool().get('telecom.usage.import')
            UsageImport.run_again([UsageImport(import_id)])
            task_id, = transaction.tasks
            transaction.tasks.clear()
        return task_id

    def notifications(self, import_id):
        with Transaction().start(DB_NAME, 0, readonly=True):
            Notification = Pool().get('res.notification')
            return [(n.user.id, n.icon, n.label)
                for n in Notification.search([
                        ('model', '=', 'telecom.usage.import'),
                        ], order=[('id', 'ASC')])
                if json.loads(n.records) == [import_id]]

    def test_progress_seen_before_the_data(self):
        """While the task reads the file, another transaction sees it
        running and the rows read, and no usage yet"""
        import_id, task_id = self.press('cdr-1.csv',
            csv_bytes(rows(25), columns=COLUMNS))
        self.assertEqual(self.outside(import_id), ('queued', 0, None, 0))
        seen = []
        writer = usage_import.UsageImport._progress_writer

        def spy(record, commit):
            self.assertTrue(commit)
            write = writer(record, commit)

            def report(count):
                write(count)
                seen.append(self.outside(import_id))
            return report

        with patch.object(usage_import, 'PROGRESS_ROWS', 10), \
                patch.object(usage_import.UsageImport, '_progress_writer',
                    spy):
            run_task(DB_NAME, task_id)
        self.assertEqual(seen, [
                ('running', 10, 25, 0),
                ('running', 20, 25, 0),
                ])
        self.assertEqual(self.outside(import_id), ('done', 25, 25, 25))
        self.assertEqual(self.notifications(import_id), [
                (self.billing_id, 'tryton-ok',
                    'Usage file "cdr-1.csv" imported')])
        with Transaction().start(DB_NAME, 0, readonly=True):
            Queue = Pool().get('ir.queue')
            self.assertTrue(Queue(task_id).finished_at)

        # a second task for the same import leaves it alone
        run_task(DB_NAME, self.run_again_done(import_id))
        self.assertEqual(self.outside(import_id), ('done', 25, 25, 25))

    def run_again_done(self, import_id):
        "A task queued for an import already done (two presses at once)"
        with Transaction().start(DB_NAME, self.billing_id) as transaction:
            UsageImport = Pool().get('telecom.usage.import')
            UsageImport.__queue__.process([UsageImport(import_id)])
            task_id, = transaction.tasks
            transaction.tasks.clear()
        return task_id

    def test_bad_file_fails(self):
        "A file with problems ends failed in the queue, nothing written"
        data = csv_bytes(rows(3, first=100), columns=COLUMNS).replace(
            b'2026-11-03 09:41:01', b'2026-11-33 09:41:01')
        import_id, task_id = self.press('cdr-bad.csv', data)
        run_task(DB_NAME, task_id)
        self.assertEqual(self.outside(import_id), ('failed', 3, 3, 0))
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            UsageImport = pool.get('telecom.usage.import')
            Usage = pool.get('telecom.usage')
            import_ = UsageImport(import_id)
            self.assertIn('Line 3, field "start", value '
                '"2026-11-33 09:41:01"', import_.problems)
            self.assertEqual(Usage.search_count([
                        ('source_key', 'like', 'Q10%')]), 0)
        self.assertEqual(self.notifications(import_id), [
                (self.billing_id, 'tryton-warning',
                    'Usage file "cdr-bad.csv" not imported')])

    def test_problem_after_rows_written(self):
        """A file whose problem comes after rows were written (streamed on
        PostgreSQL while the rest is read) ends failed, nothing written;
        the rows read were seen meanwhile as for any file"""
        data = csv_bytes(rows(25, first=300), columns=COLUMNS).replace(
            b'2026-11-03 09:24:05', b'2026-11-33 09:24:05')
        import_id, task_id = self.press('cdr-late.csv', data)
        with Transaction().start(DB_NAME, 0) as transaction:
            Pool().get('telecom.usage').ensure_partitions(
                [dt.date(2026, 11, 1)])
            transaction.commit()
        seen = []
        writer = usage_import.UsageImport._progress_writer

        def spy(record, commit):
            write = writer(record, commit)

            def report(count):
                write(count)
                seen.append(self.outside(import_id))
            return report

        sent = []
        send = BulkWriter.send

        def sending(writer, rows):
            rows = list(rows)
            sent.append(len(rows))
            return send(writer, rows)

        with patch.object(usage_import, 'PROGRESS_ROWS', 10), \
                patch.object(usage_import.UsageImport, '_progress_writer',
                    spy), \
                patch.object(BulkWriter, 'send', sending):
            run_task(DB_NAME, task_id)
        self.assertEqual(seen, [
                ('running', 10, 25, 0),
                ('running', 20, 25, 0),
                ])
        self.assertEqual(sent, [10, 10] if backend.name == 'postgresql'
            else [])
        self.assertEqual(self.outside(import_id), ('failed', 25, 25, 0))
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            UsageImport = pool.get('telecom.usage.import')
            Usage = pool.get('telecom.usage')
            self.assertIn('Line 26, field "start", value '
                '"2026-11-33 09:24:05"', UsageImport(import_id).problems)
            self.assertEqual(Usage.search_count([
                        ('source_key', 'like', 'Q3%')]), 0)

    def test_crash_leaves_nothing(self):
        """A task that dies while writing leaves no usage; Run Again
        imports the file"""
        import_id, task_id = self.press('cdr-crash.csv',
            csv_bytes(rows(5, first=200), columns=COLUMNS))
        original = usage_file.UsageFile.write

        def dies(self, *args, **kwargs):
            original(self, *args, **kwargs)
            raise SystemExit("worker killed")

        with patch.object(usage_file.UsageFile, 'write', dies), \
                self.assertRaises(SystemExit):
            run_task(DB_NAME, task_id)
        self.assertEqual(self.outside(import_id), ('running', 0, 5, 0))

        # an error rather than a kill: queued again for the queue's retry
        def fails(self, *args, **kwargs):
            original(self, *args, **kwargs)
            raise RuntimeError("disk full")

        task_id = self.run_again(import_id)
        self.assertEqual(self.outside(import_id)[0], 'queued')
        with patch.object(usage_file.UsageFile, 'write', fails), \
                self.assertLogs('trytond.worker', 'CRITICAL'):
            # the queue logs the error of the task
            run_task(DB_NAME, task_id)
        self.assertEqual(self.outside(import_id), ('queued', 0, 5, 0))
        self.assertEqual(self.notifications(import_id), [])

        run_task(DB_NAME, self.run_again(import_id))
        self.assertEqual(self.outside(import_id), ('done', 5, 5, 5))


def load_tests(loader, tests, pattern):
    return loader.loadTestsFromTestCase(UsageImportQueueTestCase)
