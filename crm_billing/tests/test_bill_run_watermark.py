"""The watermark of a bill run against usage being written at the same time.

A run bills the usage records up to the last one written when it starts;
a record committed later must get a greater id (it is then late usage on
the next bill), never a smaller one (it would be lost). Writers share a
lock the start takes alone, so the start waits for a writer in progress."""
import datetime as dt
import threading
import time
import unittest

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from crm_telecom.tests.tools import line_since, usage


@unittest.skipIf(backend.name != 'postgresql',
    "SQLite has one writer at a time")
class BillRunWatermarkTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        drop_db()
        activate_module('crm_billing')

    @classmethod
    def tearDownClass(cls):
        # what it committed goes with the database
        drop_db()

    def test_start_waits_for_writers(self):
        "The watermark is taken once the writers before it have committed"
        with Transaction().start(DB_NAME, 0) as transaction:
            subscriber = line_since(dt.date(2026, 10, 1),
                number='13800138077')
            subscriber_id = subscriber.id
            transaction.commit()
        found = {}

        def start():
            with Transaction().start(DB_NAME, 0):
                found['watermark'] = Pool().get(
                    'telecom.usage').last_written()

        with Transaction().start(DB_NAME, 0) as writer:
            Usage = Pool().get('telecom.usage')
            Subscriber = Pool().get('telecom.subscriber')
            record, = Usage.create([usage(Subscriber(subscriber_id),
                        'voice', dt.datetime(2026, 11, 3, 9), duration=60)])
            thread = threading.Thread(target=start)
            thread.start()
            time.sleep(1)
            # the start waits while the record is not committed
            self.assertTrue(thread.is_alive())
            record_id = record.id
            writer.commit()
        thread.join(10)
        self.assertFalse(thread.is_alive())
        self.assertGreaterEqual(found['watermark'], record_id)

        with Transaction().start(DB_NAME, 0) as transaction:
            Usage = Pool().get('telecom.usage')
            Subscriber = Pool().get('telecom.subscriber')
            later, = Usage.create([usage(Subscriber(subscriber_id),
                        'voice', dt.datetime(2026, 11, 4, 9), duration=60)])
            # written after the start: above the watermark
            self.assertGreater(later.id, found['watermark'])
            Usage.delete([Usage(record_id), later])
            transaction.commit()
