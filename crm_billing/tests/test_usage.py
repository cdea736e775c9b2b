"Import of usage record files (CSV)"
import datetime as dt
import json
import unittest
from decimal import Decimal as D
from unittest.mock import patch

from trytond import backend
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_billing import usage_import
from crm_billing.exceptions import UsageImportError
from crm_billing.tests.usage_csv import COLUMNS, csv_bytes, generate_rows
from crm_billing.usage_file import detect_encoding
from crm_telecom.tests.tools import (
    activation,
    create_customer,
    line_since,
    load_chinese,
    setup_reference,
)

POSTGRESQL = backend.name == 'postgresql'
SINCE = dt.date(2026, 10, 1)


def at(day, hour=10, minute=0, second=0):
    return dt.datetime(2026, 11, day, hour, minute, second)


def call(number, start, duration, **values):
    return {'number': number, 'type': 'voice', 'start': start,
        'duration': duration, 'other_party': '13912345678', **values}


class UsageImportTestCase(unittest.TestCase):
    "Usage file import"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_billing')

    def line(self, number='13800138000', since=SINCE, until=None):
        "A line in service from since (until its termination date)"
        subscriber = line_since(since, number=number)
        if until:
            subscriber.termination_date = until
            subscriber.save()
        return subscriber

    def usages(self, **domain):
        Usage = Pool().get('telecom.usage')
        return Usage.search([(k, '=', v) for k, v in domain.items()],
            order=[('start', 'ASC'), ('id', 'ASC')])

    def run_tasks(self):
        """The import tasks of the queue, as the queue runs them (its user
        and context, no language) but in this transaction"""
        pool = Pool()
        Queue = pool.get('ir.queue')
        UsageImport = pool.get('telecom.usage.import')
        transaction = Transaction()
        tasks = Queue.search([('finished_at', '=', None)], order=[('id', 'ASC')])
        for task in tasks:
            data = task.data
            self.assertEqual((data['model'], data['method']),
                ('telecom.usage.import', 'process'))
            self.assertNotIn('language', data['context'])
            with transaction.set_user(data['user']), \
                    transaction.set_context(data['context']):
                UsageImport.process(UsageImport.browse(data['instances']),
                    commit=False)
            task.finished_at = dt.datetime.now()
        Queue.save(tasks)
        return len(tasks)

    def press_import(self, user, import_):
        "The Import button, as user in the client"
        UsageImport = Pool().get('telecom.usage.import')
        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            UsageImport.import_([UsageImport(import_.id)])

    def notifications(self, user):
        return [n for n in Transaction().user_notifications
            if n.user.id == user.id]

    def sample(self):
        "One call, one message, one data session (roaming, pre-rated)"
        return [
            call('13800138000', at(3, 9, 15), 61, record_id='R1'),
            {'record_id': 'R2', 'number': '13800138000', 'type': 'sms',
                'start': at(3, 9, 20), 'other_party': '10086'},
            {'record_id': 'R3', 'number': '13800138000', 'type': 'data',
                'start': at(4), 'duration': 600, 'volume': 2048,
                'roaming': True, 'charge': '3.50'},
            ]

    def check_sample(self, subscriber):
        voice, sms, data = self.usages()
        self.assertEqual([u.subscriber for u in (voice, sms, data)],
            [subscriber] * 3)
        self.assertEqual((voice.type, voice.start, voice.duration,
                voice.units, voice.other_party, voice.roaming,
                voice.charge), ('voice', at(3, 9, 15), 61, 2,
                '13912345678', False, None))
        self.assertEqual((sms.type, sms.units, sms.other_party),
            ('sms', 1, '10086'))
        self.assertEqual((data.type, data.volume, data.units, data.roaming,
                data.charge), ('data', 2048, 2048, True, D('3.50')))
        self.assertEqual([u.source_key for u in (voice, sms, data)],
            ['R1', 'R2', 'R3'])

    # --- encodings and headers ---------------------------------------------

    @with_transaction()
    def test_chinese_encodings(self):
        "UTF-8, UTF-8 with BOM and GBK files with Chinese headers import"
        Usage = Pool().get('telecom.usage')
        subscriber = self.line()
        for encoding, detected in [('utf-8', 'utf-8'),
                ('utf-8-sig', 'utf-8-sig'), ('gbk', 'gb18030')]:
            with self.subTest(encoding=encoding):
                data = csv_bytes(self.sample(), encoding=encoding,
                    chinese=True, columns=COLUMNS)
                self.assertIn('号码', data.decode(encoding))
                self.assertEqual(detect_encoding(data), detected)
                self.assertEqual(Usage.import_csv(data), (3, 0))
                self.check_sample(subscriber)
                Usage.delete(Usage.search([]))

    @with_transaction()
    def test_english_headers(self):
        "English headers and values, in any order, extra columns ignored"
        Usage = Pool().get('telecom.usage')
        subscriber = self.line()
        columns = ['start', 'type', 'number', 'other_party', 'duration',
            'volume', 'roaming', 'charge', 'record_id', 'cell_id']
        rows = self.sample()
        for row in rows:
            row['cell_id'] = 'C-4711'
        self.assertEqual(Usage.import_csv(
                csv_bytes(rows, columns=columns)), (3, 0))
        self.check_sample(subscriber)

    @with_transaction()
    def test_formats(self):
        "Start times with '/' or 'T', units in headers, loose flags"
        Usage = Pool().get('telecom.usage')
        self.line()
        data = ('号码,类型,开始时间,时长(秒),流量（KB）,漫游\n'
            '138 0013 8000,语音,2026/11/3 9:05,59,,Y\n'
            '+8613800138000,上网,2026-11-03T09:06:07,,10,否\n'
            '13800138000,VOICE,2026/11/03 09:07:00,120,,true\n'
            ).encode('utf-8')
        self.assertEqual(Usage.import_csv(data), (3, 0))
        first, second, third = self.usages()
        self.assertEqual((first.start, first.units, first.roaming),
            (dt.datetime(2026, 11, 3, 9, 5), 1, True))
        self.assertEqual((second.type, second.start, second.units,
                second.roaming), ('data', at(3, 9, 6, 7), 10, False))
        self.assertEqual((third.type, third.units, third.roaming),
            ('voice', 2, True))
        # no record id: the key is a hash of the record's fields
        self.assertEqual(len(first.source_key), 40)

    # --- units ------------------------------------------------------------

    @with_transaction()
    def test_units(self):
        "Voice counts started minutes, SMS one, data KB"
        Usage = Pool().get('telecom.usage')
        self.line()
        rows = [call('13800138000', at(3, 10, m), d)
            for m, d in enumerate([0, 1, 59, 60, 61, 3600])]
        rows.append({'number': '13800138000', 'type': 'data',
                'start': at(4), 'volume': 1500})
        Usage.import_csv(csv_bytes(rows, columns=COLUMNS))
        self.assertEqual([u.units for u in self.usages()],
            [0, 1, 1, 1, 2, 60, 1500])

    @with_transaction()
    def test_pre_rated(self):
        "A charge in the file is kept as the record's charge"
        Usage = Pool().get('telecom.usage')
        self.line()
        rows = [call('13800138000', at(3), 30, charge='0.39'),
            call('13800138000', at(4), 30, charge='0'),
            call('13800138000', at(5), 30)]
        Usage.import_csv(csv_bytes(rows, columns=COLUMNS))
        self.assertEqual([u.charge for u in self.usages()],
            [D('0.39'), D('0.00'), None])

    # --- problems ---------------------------------------------------------

    @with_transaction()
    def test_bad_rows(self):
        "Every bad row is reported with line, field and value; none written"
        Usage = Pool().get('telecom.usage')
        self.line()
        self.line('13900139000', until=dt.date(2026, 11, 10))
        data = ('号码,类型,开始时间,时长,流量,对端号码,漫游,费用\n'
            '13800138000,语音,2026-11-03 10:00:00,61,,10086,否,\n'
            '1380013800,语音,2026-11-03 10:00:00,61,,,,\n'
            '13700137000,语音,2026-11-03 10:00:00,61,,,,\n'
            '13800138000,彩信,2026-11-03 10:00:00,,,,,\n'
            '13800138000,短信,2026-11-31 10:00:00,,,,,\n'
            '13800138000,语音,2026-11-03 10:00:00,-5,,,,\n'
            '13800138000,语音,2026-11-03 10:00:00,,,,,\n'
            '13800138000,流量,2026-11-03 10:00:00,,,,,\n'
            '13800138000,流量,2026-11-03 10:00:00,,1.5,,,\n'
            '13800138000,短信,2026-11-03 10:00:00,,,,也许,\n'
            '13800138000,短信,2026-11-03 10:00:00,,,,,-1\n'
            '13800138000,短信,2026-11-03 10:00:00,,,,,0.001\n'
            '13800138000,短信,2026-09-30 23:59:59,,,,,\n'
            '13900139000,短信,2026-11-11 00:00:00,,,,,\n'
            '13900139000,短信,2026-11-10 23:59:59,,,,,\n'
            '13800138000,短信,2026-11-03 10:00:00,,,,,1,extra\n'
            ).encode('gbk')
        with self.assertRaises(UsageImportError) as cm:
            Usage.import_csv(data)
        message = cm.exception.message
        self.assertIn('14 problems', message)
        for expected in [
                'Line 3, field "号码", value "1380013800": '
                'not an 11-digit mobile number',
                'Line 4, field "号码", value "13700137000": unknown number',
                'Line 5, field "类型", value "彩信": unknown type',
                'Line 6, field "开始时间", value "2026-11-31 10:00:00": '
                'not a date and time',
                'Line 7, field "时长", value "-5": must not be negative',
                'Line 8, field "时长", value "": a call needs its duration',
                'Line 9, field "流量", value "": a data session needs',
                'Line 10, field "流量", value "1.5": not a whole number',
                'Line 11, field "漫游", value "也许": not a roaming flag',
                'Line 12, field "费用", value "-1": not an amount',
                'Line 13, field "费用", value "0.001": not an amount',
                'Line 14, field "号码", value "13800138000": the number '
                'had no line in service on 2026-09-30',
                'Line 15, field "号码", value "13900139000": the number '
                'had no line in service on 2026-11-11',
                'Line 17: the row has 9 cells but the header has 8',
                ]:
            self.assertIn(expected, message)
        self.assertNotIn('Line 2,', message)
        self.assertNotIn('Line 16', message)
        # in line order
        self.assertLess(message.index('Line 3,'), message.index('Line 4,'))
        self.assertLess(message.index('Line 14,'), message.index('Line 17'))
        self.assertEqual(Usage.search_count([]), 0)

    @with_transaction()
    def test_many_problems(self):
        "The first 20 problems are listed, then how many more"
        Usage = Pool().get('telecom.usage')
        self.line()
        rows = [call('13800138000', at(3, 10, m), 'x') for m in range(25)]
        with self.assertRaises(UsageImportError) as cm:
            Usage.import_csv(csv_bytes(rows, columns=COLUMNS))
        message = cm.exception.message
        self.assertIn('25 problems', message)
        self.assertIn('Line 21,', message)
        self.assertNotIn('Line 22,', message)
        self.assertIn('and 5 more', message)

    @with_transaction()
    def test_missing_columns(self):
        "Missing columns are named once, on the header line"
        Usage = Pool().get('telecom.usage')
        self.line()
        for data, expected in [
                (b'number,start,duration\n13800138000,'
                    b'2026-11-03 10:00:00,5\n',
                    ['Line 1: column type / 类型 is missing']),
                (b'number,type,start\n13800138000,voice,'
                    b'2026-11-03 10:00:00\n13800138000,data,'
                    b'2026-11-03 10:00:00\n',
                    ['Line 1: column duration / 时长 is missing',
                        'Line 1: column volume / 流量 is missing']),
                (b'', ['Line 1: no header row']),
                (b'a,b\n1,2\n', ['Line 1: no header row']),
                ]:
            with self.subTest(data=data):
                with self.assertRaises(UsageImportError) as cm:
                    Usage.import_csv(data)
                for text in expected:
                    self.assertIn(text, cm.exception.message)
        self.assertEqual(Usage.search_count([]), 0)

    @with_transaction()
    def test_not_text(self):
        "A file that is neither UTF-8 nor GBK is refused"
        Usage = Pool().get('telecom.usage')
        with self.assertRaises(UsageImportError) as cm:
            Usage.import_csv(b'number,type\n\x81\x20\xff\xff')
        self.assertIn('neither UTF-8 nor GBK', cm.exception.message)

    # --- duplicates -----------------------------------------------------

    @with_transaction()
    def test_reimport(self):
        "Importing a file again adds nothing; repeats in a file are skipped"
        Usage = Pool().get('telecom.usage')
        self.line()
        rows = list(generate_rows(['13800138000'], dt.date(2026, 11, 1),
                dt.date(2026, 11, 30), 300, seed=3, record_ids=False))
        data = csv_bytes(rows + rows[:10], columns=COLUMNS)
        self.assertEqual(Usage.import_csv(data), (300, 10))
        self.assertEqual(Usage.import_csv(data), (0, 310))
        # the same records in a Chinese GBK file have the same keys
        self.assertEqual(Usage.import_csv(csv_bytes(rows, encoding='gbk',
                    chinese=True, columns=COLUMNS)), (0, 300))
        more = list(generate_rows(['13800138000'], dt.date(2026, 11, 1),
                dt.date(2026, 11, 30), 5, seed=4, record_ids=False))
        self.assertEqual(Usage.import_csv(csv_bytes(rows[:5] + more,
                    columns=COLUMNS)), (5, 5))
        self.assertEqual(Usage.search_count([]), 305)

    @with_transaction()
    def test_chunks(self):
        """A file is checked by chunks of rows: the same records, skips and
        problems whatever the size of the chunks"""
        from crm_billing import usage_file
        Usage = Pool().get('telecom.usage')
        self.line()
        rows = list(generate_rows(['13800138000'], dt.date(2026, 11, 1),
                dt.date(2026, 11, 30), 20, seed=6, record_ids=False))
        # repeated after the first rows, in another order
        good = csv_bytes(rows + rows[9:3:-1], columns=COLUMNS)
        bad = [dict(r) for r in rows]
        bad[2]['duration'] = 'x'
        bad[2]['type'] = 'voice'
        bad[5]['number'] = '123'
        bad[9]['type'] = 'fax'
        bad[12]['number'] = '13700137000'
        bad[12]['roaming'] = 'maybe'
        bad = csv_bytes(bad, columns=COLUMNS)
        outcomes = []
        for size in [usage_file.ROWS, 4, 1]:
            with self.subTest(size=size), \
                    patch.object(usage_file, 'ROWS', size):
                part = Usage.import_csv(csv_bytes(rows[5:12],
                        columns=COLUMNS))
                whole = Usage.import_csv(good)
                keys = sorted(u.source_key for u in Usage.search([]))
                with self.assertRaises(UsageImportError) as cm:
                    Usage.import_csv(bad)
                outcomes.append((part, whole, keys, cm.exception.message))
                Usage.delete(Usage.search([]))
        part, whole, keys, message = outcomes[0]
        self.assertEqual((part, whole, len(keys)), ((7, 0), (13, 13), 20))
        self.assertIn('5 problems', message)
        for expected in ['Line 4, field "duration", value "x"',
                'Line 7, field "number", value "123"',
                'Line 11, field "type", value "fax"',
                'Line 14, field "number", value "13700137000": unknown',
                'Line 14, field "roaming", value "maybe"']:
            self.assertIn(expected, message)
        self.assertEqual(outcomes[1:], outcomes[:1] * 2)

    @with_transaction()
    def test_problem_in_a_late_chunk(self):
        """A file whose only problem comes after chunks already written
        (streamed into the table on PostgreSQL) imports nothing, and the
        transaction goes on; corrected, the file imports"""
        from crm_billing import usage_file
        from crm_telecom.bulk import BulkWriter
        Usage = Pool().get('telecom.usage')
        self.line()
        rows = list(generate_rows(['13800138000'], dt.date(2026, 11, 1),
                dt.date(2026, 11, 30), 30, seed=8))
        # the month has its partition: its rows are written as they come
        Usage.ensure_partitions([dt.date(2026, 11, 1)])
        bad = [dict(r) for r in rows]
        bad[-1]['type'] = 'fax'
        sent = []
        send = BulkWriter.send

        def spy(writer, rows):
            rows = list(rows)
            sent.append(len(rows))
            return send(writer, rows)
        with patch.object(usage_file, 'ROWS', 4), \
                patch.object(BulkWriter, 'send', spy):
            with self.assertRaises(UsageImportError) as cm:
                Usage.import_csv(csv_bytes(bad, columns=COLUMNS))
            self.assertIn('nothing was written: 1 problems',
                cm.exception.message)
            self.assertIn('Line 31, field "type", value "fax"',
                cm.exception.message)
            self.assertEqual(Usage.search_count([]), 0)
            # the 7 chunks before the last were written, then undone
            self.assertEqual(sent, [4] * 7 if POSTGRESQL else [])
            self.assertEqual(Usage.import_csv(csv_bytes(rows,
                        columns=COLUMNS)), (30, 0))
        self.assertEqual(sorted(u.source_key for u in Usage.search([])),
            sorted(r['record_id'] for r in rows))

    @with_transaction()
    def test_written_meanwhile(self):
        """A record another import wrote after the keys were looked up: the
        import fails as concurrent and writes nothing"""
        from crm_billing import usage_file
        Usage = Pool().get('telecom.usage')
        self.line()
        rows = list(generate_rows(['13800138000'], dt.date(2026, 11, 1),
                dt.date(2026, 11, 30), 12, seed=9))
        Usage.ensure_partitions([dt.date(2026, 11, 1)])
        self.assertEqual(Usage.import_csv(csv_bytes(rows[5:6],
                    columns=COLUMNS)), (1, 0))
        with patch.object(usage_file, 'ROWS', 4), \
                patch.object(usage_file.UsageFile, '_drop_existing',
                    lambda file, rows: None):
            with self.assertRaises(UsageImportError) as cm:
                Usage.import_csv(csv_bytes(rows, columns=COLUMNS))
        self.assertIn('Another import wrote some of these usage records',
            cm.exception.message)
        self.assertEqual([u.source_key for u in Usage.search([])],
            [rows[5]['record_id']])

    @with_transaction()
    def test_csv_error(self):
        "A file that stops being CSV: the rows before are checked too"
        Usage = Pool().get('telecom.usage')
        self.line()
        data = ('number,type,start,duration\n'
            '13800138000,voice,2026-11-03 10:00:00,x\n'
            '13800138000,voice,2026-11-03 10:01:00,60\n'
            '13800138000,voice,"%s",60\n' % ('9' * 200_000)).encode()
        with self.assertRaises(UsageImportError) as cm:
            Usage.import_csv(data)
        message = cm.exception.message
        self.assertIn('2 problems', message)
        self.assertIn('Line 2, field "duration", value "x"', message)
        self.assertIn('Line 4: the file cannot be read as CSV', message)
        self.assertEqual(Usage.search_count([]), 0)

    # --- line of the day --------------------------------------------------

    @with_transaction()
    def test_number_changed_hands(self):
        "Records go to the line that had the number on the day of use"
        pool = Pool()
        Usage = pool.get('telecom.usage')
        Subscriber = pool.get('telecom.subscriber')
        old = self.line(since=dt.date(2025, 1, 1),
            until=dt.date(2026, 6, 30))
        Subscriber.write([old], {'state': 'terminated'})
        Number = pool.get('telecom.number')
        Number.write([old.number], {'state': 'available'})
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        order = activation(create_customer(sequence=77), old.number,
            brands['SZX'], products["神州行 18元畅聊卡"])
        Order.process([order])
        new = order.subscriber
        new.activation_date = dt.date(2026, 10, 1)
        new.save()
        rows = [call('13800138000', dt.datetime(2026, 6, 30, 23, 0), 60),
            call('13800138000', at(2), 60)]
        self.assertEqual(Usage.import_csv(csv_bytes(rows, columns=COLUMNS)),
            (2, 0))
        self.assertEqual([u.subscriber for u in self.usages()], [old, new])

    @with_transaction()
    def test_line_activated_after_first_rows(self):
        """A line activated after the first rows of a file: its records
        before are not in service, after they are its, whatever the
        chunks"""
        from crm_billing import usage_file
        Usage = Pool().get('telecom.usage')
        first = self.line()
        later = self.line('13800138001', since=dt.date(2026, 11, 10))
        rows = [call('13800138000', at(5), 60, record_id='A1'),
            call('13800138001', at(12), 60, record_id='A2'),
            call('13800138001', at(8), 60, record_id='A3'),
            call('13800138001', at(11), 60, record_id='A4')]
        for size in [usage_file.ROWS, 1]:
            with self.subTest(size=size), \
                    patch.object(usage_file, 'ROWS', size):
                with self.assertRaises(UsageImportError) as cm:
                    Usage.import_csv(csv_bytes(rows, columns=COLUMNS))
                self.assertIn('nothing was written: 1 problems',
                    cm.exception.message)
                self.assertIn('Line 4, field "number", value '
                    '"13800138001": the number had no line in service on '
                    '2026-11-08', cm.exception.message)
                self.assertEqual(Usage.import_csv(csv_bytes(
                            rows[:2] + rows[3:], columns=COLUMNS)), (3, 0))
                self.assertEqual(
                    [(u.source_key, u.subscriber) for u in self.usages()],
                    [('A1', first), ('A4', later), ('A2', later)])
                Usage.delete(Usage.search([]))

    @with_transaction()
    def test_batches(self):
        """Numbers and keys are looked up by batches, never one by one; the
        keys of a file not one of which the database has in their range
        are not looked up"""
        from unittest.mock import patch

        from crm_billing import usage_file
        Usage = Pool().get('telecom.usage')
        numbers = ['1380013800%d' % i for i in range(5)]
        lines = [self.line(n) for n in numbers]
        rows = list(generate_rows(numbers, dt.date(2026, 11, 1),
                dt.date(2026, 11, 30), 50, seed=5))
        data = csv_bytes(rows, columns=COLUMNS)
        cursor_class = type(Transaction().connection.cursor())
        execute = cursor_class.execute

        def selects(data, pool_share=0):
            executed = []

            def count(cursor, *args, **kwargs):
                executed.append(args[0])
                return execute(cursor, *args, **kwargs)
            with patch.dict(usage_file.NUMBER_BATCH,
                        {'postgresql': 2, 'sqlite': 2}), \
                    patch.dict(usage_file.KEY_BATCH,
                        {'postgresql': 7, 'sqlite': 7}), \
                    patch.object(usage_file, 'POOL_SHARE', pool_share), \
                    patch.object(cursor_class, 'execute', count):
                result = Usage.import_csv(data)
            queries = [q for q in executed if isinstance(q, str)
                and q.lstrip().startswith('SELECT')]
            keys = [q for q in queries if '"source_key"' in q]
            return (result,
                len([q for q in queries if '"telecom_number"' in q]),
                len([q for q in keys if ' >= ' in q]),
                len([q for q in keys if ' >= ' not in q]))

        self.assertEqual(selects(data), ((50, 0), 3, 1, 0))
        by_number = {l.number.number: l for l in lines}
        for usage in self.usages():
            row, = [r for r in rows if r['record_id'] == usage.source_key]
            self.assertEqual(usage.subscriber, by_number[row['number']])

        # a record already imported in the range of the keys of a file
        first = min(r['record_id'] for r in rows)
        more = [dict(r, record_id=first + '-%s' % i)
            for i, r in enumerate(rows)]
        self.assertEqual(selects(csv_bytes(more[:1], columns=COLUMNS)),
            ((1, 0), 1, 1, 0))
        self.assertEqual(selects(csv_bytes(more, columns=COLUMNS)),
            ((49, 1), 3, 1, 8))

        # numbers of a good part of the pool: the whole pool read once
        cursor = Transaction().connection.cursor()
        if POSTGRESQL:
            cursor.execute('ANALYZE telecom_number')
        again = [dict(r, record_id=first + '+%s' % i)
            for i, r in enumerate(rows)]
        self.assertEqual(selects(csv_bytes(again, columns=COLUMNS),
                pool_share=10 ** 6), ((50, 0), 1 if POSTGRESQL else 3, 1, 0))

    # --- the import record and its button ---------------------------------

    @with_transaction()
    def test_import_button(self):
        """A billing operator presses Import: the file is queued and the
        request writes nothing; the queue's task imports it"""
        pool = Pool()
        UsageImport = pool.get('telecom.usage.import')
        Usage = pool.get('telecom.usage')
        Queue = pool.get('ir.queue')
        self.line()
        billing = self.billing_user()
        data = csv_bytes(self.sample(), encoding='gbk', chinese=True,
            columns=COLUMNS)
        with Transaction().set_user(billing.id), \
                Transaction().set_context(_check_access=True):
            import_, = UsageImport.create([{'name': '话单-202611.csv',
                        'file': data}])
            UsageImport.import_([import_])
        import_ = UsageImport(import_.id)
        self.assertEqual((import_.state, import_.rows_read, import_.progress,
                import_.imported, import_.imported_by),
            ('queued', 0, 0.0, None, billing))
        self.assertEqual(Usage.search_count([]), 0)
        task, = Queue.search([])
        self.assertEqual((task.data['model'], task.data['method'],
                list(task.data['instances']), task.data['user']),
            ('telecom.usage.import', 'process', [import_.id], billing.id))
        self.assertEqual(Transaction().tasks, [task.id])
        Transaction().tasks.clear()

        self.assertEqual(self.run_tasks(), 1)
        import_ = UsageImport(import_.id)
        self.assertEqual((import_.state, import_.encoding, import_.rows,
                import_.rows_read, import_.progress, import_.imported,
                import_.skipped, import_.imported_by, import_.problems),
            ('done', 'gb18030', 3, 3, 1.0, 3, 0, billing, None))
        self.assertTrue(import_.imported_at)
        self.assertEqual(sorted(Usage.search([('import_', '=', import_.id)])),
            sorted(self.usages()))
        self.assertEqual(Usage.search_count([('billed', '=', False)]), 3)
        self.assertEqual(Usage.search_count([('billed', '=', True)]), 0)
        # the bell of the presser, opening the import
        notification, = self.notifications(billing)
        self.assertEqual((notification.icon, notification.model,
                json.loads(notification.records)),
            ('tryton-ok', 'telecom.usage.import', [import_.id]))
        self.assertEqual(notification.label,
            'Usage file "话单-202611.csv" imported')
        self.assertEqual(notification.description,
            '3 rows: 3 imported, 0 skipped.')

        # a done import is neither imported again nor deleted; a task
        # queued for it again leaves it alone
        with self.assertRaises(UsageImportError):
            Usage.import_csv(data, import_=import_)
        with self.assertRaises(UsageImportError):
            UsageImport.delete([import_])
        UsageImport.process([import_], commit=False)
        self.assertEqual(Usage.search_count([]), 3)

        # the same file again: everything skipped
        again, = UsageImport.create([{'name': 'again.csv', 'file': data}])
        self.press_import(billing, again)
        self.run_tasks()
        again = UsageImport(again.id)
        self.assertEqual((again.state, again.rows, again.imported,
                again.skipped), ('done', 3, 0, 3))

    @with_transaction()
    def test_import_button_bad_file(self):
        """A bad file ends failed with its problems (line, field, value),
        writes nothing, and is imported again once corrected"""
        pool = Pool()
        UsageImport = pool.get('telecom.usage.import')
        Usage = pool.get('telecom.usage')
        self.line()
        billing = self.billing_user()
        import_, = UsageImport.create([{'name': 'bad.csv',
                    'file': b'number,type,start,duration\n'
                    b'13900000000,voice,x,61\n'
                    b'13800138000,voice,2026-11-03 10:00:00,61\n'}])
        self.press_import(billing, import_)
        self.run_tasks()
        import_ = UsageImport(import_.id)
        self.assertEqual((import_.state, import_.rows, import_.imported),
            ('failed', 2, 0))
        problems = import_.problems
        self.assertTrue(problems.startswith('The usage file was not '
                'imported, nothing was written: 2 problems.'), problems)
        self.assertIn('Line 2, field "number", value "13900000000": '
            'unknown number', problems)
        self.assertIn('Line 2, field "start", value "x"', problems)
        # problems of a line in the order of its columns
        self.assertLess(problems.index('field "number"'),
            problems.index('field "start"'))
        self.assertEqual(Usage.search_count([]), 0)
        notification, = self.notifications(billing)
        self.assertEqual((notification.icon, notification.label,
                json.loads(notification.records)),
            ('tryton-warning', 'Usage file "bad.csv" not imported',
                [import_.id]))
        self.assertEqual(notification.description, problems.splitlines()[0])
        # the form shows the problems only when there are some
        self.assertEqual(UsageImport.problems.states['invisible'].pyson(),
            (~Eval('problems')).pyson())

        # corrected by the operator: a new file, imported again
        with Transaction().set_user(billing.id), \
                Transaction().set_context(_check_access=True):
            UsageImport.write([UsageImport(import_.id)], {
                    'file': b'number,type,start,duration\n'
                    b'13800138000,voice,2026-11-03 10:00:00,61\n'})
        self.press_import(billing, import_)
        import_ = UsageImport(import_.id)
        self.assertEqual((import_.state, import_.problems, import_.rows),
            ('queued', None, None))
        self.run_tasks()
        import_ = UsageImport(import_.id)
        self.assertEqual((import_.state, import_.problems, import_.imported),
            ('done', None, 1))
        self.assertEqual(Usage.search_count([]), 1)

    @with_transaction()
    def test_failed_in_chinese(self):
        """The task has no language: the problems and the bell are in the
        language of whoever pressed Import"""
        pool = Pool()
        UsageImport = pool.get('telecom.usage.import')
        Lang = pool.get('ir.lang')
        load_chinese('crm_billing')
        self.line()
        billing = self.billing_user()
        billing.language, = Lang.search([('code', '=', 'zh_CN')])
        billing.save()
        import_, = UsageImport.create([{'name': '话单.csv',
                    'file': ('号码,类型,开始时间,时长\n'
                        '13800138000,彩信,2026-11-03 10:00:00,\n'
                        ).encode('gbk')}])
        self.press_import(billing, import_)
        self.run_tasks()
        import_ = UsageImport(import_.id)
        self.assertEqual(import_.state, 'failed')
        self.assertIn('第 2 行，字段“类型”，值“彩信”：未知类型',
            import_.problems)
        notification, = self.notifications(billing)
        self.assertEqual(notification.label, '话单文件“话单.csv”导入失败')

    @with_transaction()
    def test_progress(self):
        """The rows read are written while the file is read, every
        PROGRESS_ROWS rows, not on every row"""
        pool = Pool()
        UsageImport = pool.get('telecom.usage.import')
        Usage = pool.get('telecom.usage')
        self.line()
        billing = self.billing_user()
        rows = [call('13800138000', at(3, 9, i % 60, i // 60), 61,
                record_id='R%s' % i) for i in range(45)]
        data = csv_bytes(rows, columns=COLUMNS)
        import_, = UsageImport.create([{'name': 'cdr.csv', 'file': data}])
        self.press_import(billing, import_)

        seen = []
        writer = UsageImport._progress_writer

        def spy(self, commit):
            write = writer(self, commit)

            def report(count):
                write(count)
                record = UsageImport(self.id)
                seen.append((count, record.state, record.rows_read,
                        record.rows, record.progress,
                        Usage.search_count([])))
            return report

        with patch.object(usage_import, 'PROGRESS_ROWS', 10), \
                patch.object(UsageImport, '_progress_writer', spy):
            self.run_tasks()
        self.assertEqual(seen, [
                (10, 'running', 10, 45, 10 / 45, 0),
                (20, 'running', 20, 45, 20 / 45, 0),
                (30, 'running', 30, 45, 30 / 45, 0),
                (40, 'running', 40, 45, 40 / 45, 0),
                ])
        import_ = UsageImport(import_.id)
        self.assertEqual((import_.state, import_.rows, import_.rows_read,
                import_.progress, import_.imported), ('done', 45, 45, 1.0, 45))
        self.assertEqual(usage_import.PROGRESS_ROWS, 20_000)

    @with_transaction()
    def test_run_again(self):
        "Run Again queues an import left queued or running by a dead task"
        pool = Pool()
        UsageImport = pool.get('telecom.usage.import')
        Queue = pool.get('ir.queue')
        self.line()
        billing = self.billing_user()
        import_, = UsageImport.create([{'name': 'cdr.csv',
                    'file': csv_bytes(self.sample(), columns=COLUMNS)}])
        self.press_import(billing, import_)
        Queue.delete(Queue.search([]))
        UsageImport.write([import_], {'state': 'running'})
        with Transaction().set_user(billing.id), \
                Transaction().set_context(_check_access=True):
            UsageImport.run_again([UsageImport(import_.id)])
        self.assertEqual(UsageImport(import_.id).state, 'queued')
        self.assertEqual(self.run_tasks(), 1)
        self.assertEqual(UsageImport(import_.id).state, 'done')

    @with_transaction()
    def test_import_access(self):
        "A call-centre agent can read usage but not import it"
        pool = Pool()
        UsageImport = pool.get('telecom.usage.import')
        Usage = pool.get('telecom.usage')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        from trytond.model.exceptions import AccessError
        agent, = User.create([{'login': 'agent',
                    'groups': [('add', [ModelData.get_id(
                                    'crm_telecom', 'group_call_centre')])]}])
        with Transaction().set_user(agent.id), \
                Transaction().set_context(_check_access=True):
            Usage.search([])
            with self.assertRaises(AccessError):
                UsageImport.create([{'name': 'x.csv', 'file': b'x'}])
            with self.assertRaises(AccessError):
                Usage.import_csv(b'number,type,start\n')
        import_, = UsageImport.create([{'name': 'x.csv', 'file': b'x'}])
        with Transaction().set_user(agent.id), \
                Transaction().set_context(_check_access=True):
            with self.assertRaises(AccessError):
                UsageImport.import_([UsageImport(import_.id)])


    @with_transaction()
    def test_command_line(self):
        """The command line imports a file at once, in its transaction,
        without the queue; a refused file raises its problems"""
        import os
        import tempfile

        from data.import_usage import import_file
        pool = Pool()
        UsageImport = pool.get('telecom.usage.import')
        Queue = pool.get('ir.queue')
        self.line()
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, 'cdr.csv')
            with open(path, 'wb') as f:
                f.write(csv_bytes(self.sample(), columns=COLUMNS))
            self.assertEqual(import_file(path), (3, 3, 0))
            self.assertEqual(import_file(path), (3, 0, 3))
            with open(path, 'wb') as f:
                f.write(b'number,type,start\n13800138000,voice,x\n')
            with self.assertRaises(UsageImportError) as cm:
                import_file(path)
        self.assertIn('Line 2, field "start", value "x"',
            cm.exception.message)
        self.assertEqual([i.state for i in UsageImport.search([])],
            ['failed', 'done', 'done'])
        self.assertEqual(Queue.search([]), [])

    # --- the wizard and the formats ----------------------------------------

    def billing_user(self):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        user, = User.create([{'login': 'billing',
                    'groups': [('add', [ModelData.get_id(
                                    'crm_telecom', 'group_billing')])]}])
        return user

    def run_wizard(self, data, name='话单.csv', format='switch'):
        "The import wizard as the client runs it: choose a file, Import"
        Wizard = Pool().get('telecom.usage.import_file', type='wizard')
        session_id, _, _ = Wizard.create()
        defaults = Wizard.execute(session_id, {}, 'start')
        self.assertEqual(defaults['view']['defaults']['format'], 'switch')
        result = Wizard.execute(session_id, {'start': {
                    'file': data, 'name': name, 'format': format}},
            'import_')
        Wizard.delete(session_id)
        return result

    @with_transaction()
    def test_wizard(self):
        "The wizard imports a file into a new import record and opens it"
        pool = Pool()
        UsageImport = pool.get('telecom.usage.import')
        Usage = pool.get('telecom.usage')
        subscriber = self.line()
        billing = self.billing_user()
        data = csv_bytes(self.sample(), encoding='gbk', chinese=True,
            columns=COLUMNS)
        with Transaction().set_user(billing.id), \
                Transaction().set_context(_check_access=True):
            result = self.run_wizard(data)
        import_, = UsageImport.search([])
        action, = result['actions']
        self.assertEqual(action[0]['res_model'], 'telecom.usage.import')
        self.assertEqual(action[1]['res_id'], [import_.id])
        # the wizard opens the import queued, the queue imports it
        self.assertEqual((import_.state, import_.imported_by),
            ('queued', billing))
        self.assertEqual(Usage.search_count([]), 0)
        self.run_tasks()
        import_ = UsageImport(import_.id)
        self.assertEqual((import_.name, import_.format, import_.state,
                import_.rows, import_.imported, import_.imported_by),
            ('话单.csv', 'switch', 'done', 3, 3, billing))
        self.assertEqual(len(Usage.search([('import_', '=', import_.id)])),
            3)
        self.check_sample(subscriber)

    @with_transaction()
    def test_wizard_bad_file(self):
        "A bad file from the wizard ends failed with its problems"
        UsageImport = Pool().get('telecom.usage.import')
        self.line()
        self.run_wizard(b'number,type,start\n13800138000,voice,x\n')
        self.run_tasks()
        import_, = UsageImport.search([])
        self.assertEqual(import_.state, 'failed')
        self.assertIn('Line 2, field "start", value "x"', import_.problems)

    @with_transaction()
    def test_formats_have_parsers(self):
        "Every format of the selection has its parse method"
        UsageImport = Pool().get('telecom.usage.import')
        formats = [f for f, _ in UsageImport.fields_get(
                ['format'])['format']['selection']]
        self.assertEqual(formats, ['switch', 'partner'])
        for format_ in formats:
            self.assertTrue(callable(
                    getattr(UsageImport, 'parse_%s' % format_, None)))

    def partner_import(self, data):
        "A partner's file, imported through the queue"
        UsageImport = Pool().get('telecom.usage.import')
        import_, = UsageImport.create([{'name': 'HKGPP-202611.csv',
                    'file': data, 'format': 'partner'}])
        UsageImport.import_([import_])
        self.run_tasks()
        import_ = UsageImport(import_.id)
        if import_.state == 'failed':
            raise UsageImportError(import_.problems)
        return import_

    @with_transaction()
    def test_partner_format(self):
        "A partner network's file: its codes, compact times, bytes, charges"
        subscriber = self.line()
        data = ('合作方,话单编号,号码,业务,开始时间,时长(秒),字节数,对端号码,费用\n'
            'HKGPP,900001,8613800138000,MOC,20261103091500,61,,85291234567,'
            '4.50\n'
            'HKGPP,900002,13800138000,SMS,20261103092000,,,85291234567,'
            '1.20\n'
            'HKGPP,900003,13800138000,GPRS,2026-11-04 10:00:00,,1048577,,'
            '12.00\n'
            'HKGPP,900003,13800138000,GPRS,2026-11-04 10:00:00,,1048577,,'
            '12.00\n'
            ).encode('gbk')
        import_ = self.partner_import(data)
        self.assertEqual((import_.rows, import_.imported, import_.skipped,
                import_.encoding), (4, 3, 1, 'gb18030'))
        voice, sms, data_ = self.usages()
        self.assertEqual([u.subscriber for u in (voice, sms, data_)],
            [subscriber] * 3)
        self.assertEqual((voice.type, voice.start, voice.duration,
                voice.units, voice.charge, voice.roaming,
                voice.other_party), ('voice', at(3, 9, 15), 61, 2,
                D('4.50'), True, '85291234567'))
        self.assertEqual((sms.type, sms.units, sms.charge),
            ('sms', 1, D('1.20')))
        # bytes are stored as started KB
        self.assertEqual((data_.type, data_.volume, data_.units,
                data_.charge), ('data', 1025, 1025, D('12.00')))
        self.assertEqual([u.source_key for u in (voice, sms, data_)],
            ['HKGPP/900001', 'HKGPP/900002', 'HKGPP/900003'])
        again = self.partner_import(data)
        self.assertEqual((again.imported, again.skipped), (0, 4))

    @with_transaction()
    def test_partner_bad_rows(self):
        "A partner's rows need their record id, service, time and charge"
        Usage = Pool().get('telecom.usage')
        self.line()
        data = ('partner,record_id,msisdn,service,start,duration,bytes,'
            'charge\n'
            'HKGPP,1,13800138000,MOC,20261103091500,61,,0.50\n'
            'HKGPP,,13800138000,MOC,20261103091500,61,,0.50\n'
            'HKGPP,3,13800138000,FAX,20261103091500,61,,0.50\n'
            'HKGPP,4,13800138000,SMS,20261131091500,,,0.50\n'
            'HKGPP,5,13800138000,GPRS,20261103091500,,,0.50\n'
            'HKGPP,6,13800138000,SMS,20261103091500,,,\n'
            ).encode('utf-8')
        with self.assertRaises(UsageImportError) as cm:
            self.partner_import(data)
        message = cm.exception.message
        self.assertIn('5 problems', message)
        for expected in [
                'Line 3, field "record_id", value "": a value is required',
                'Line 4, field "service", value "FAX": unknown service',
                'Line 5, field "start", value "20261131091500": not a date',
                'Line 6, field "bytes", value "": a data session needs its '
                'volume in bytes',
                'Line 7, field "charge", value "": a partner\'s record '
                'needs the charge',
                ]:
            self.assertIn(expected, message)
        self.assertEqual(Usage.search_count([]), 0)

    @with_transaction()
    def test_problems_in_chinese(self):
        "The problems are told in Chinese, naming field and value"
        Usage = Pool().get('telecom.usage')
        load_chinese('crm_billing')
        self.line()
        data = ('号码,类型,开始时间,时长\n'
            '1380013800,语音,2026-11-03 10:00:00,61\n'
            '13800138000,彩信,2026-11-03 10:00:00,\n').encode('gbk')
        with Transaction().set_context(language='zh_CN'), \
                self.assertRaises(UsageImportError) as cm:
            Usage.import_csv(data)
        message = cm.exception.message
        self.assertIn('第 2 行，字段“号码”，值“1380013800”：', message)
        self.assertIn('第 3 行，字段“类型”，值“彩信”：未知类型', message)


def load_tests(loader, tests, pattern):
    return loader.loadTestsFromTestCase(UsageImportTestCase)
