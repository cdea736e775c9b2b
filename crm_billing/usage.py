import datetime as dt
import logging
import zlib

from dateutil.relativedelta import relativedelta
from sql.aggregate import Max
from sql.operators import Exists

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.company import company_currency

from .exceptions import BillingError, UsageImportError

logger = logging.getLogger(__name__)

USAGE_TYPES = [
    ('voice', "Voice"),
    ('sms', "SMS"),
    ('data', "Data"),
    ]
# PostgreSQL advisory lock: writers of usage share it, a bill run fixing
# its watermark takes it alone
WRITE_LOCK = zlib.crc32(b'telecom_usage')


class Usage(ModelSQL, ModelView):
    "Usage record (call, message or data session) of a line"
    __name__ = 'telecom.usage'

    subscriber = fields.Many2One('telecom.subscriber', "Line", required=True,
        ondelete='RESTRICT', readonly=True)
    type = fields.Selection(USAGE_TYPES, "Type", required=True,
        readonly=True)
    roaming = fields.Boolean("Roaming", readonly=True)
    other_party = fields.Char("Other Party", readonly=True)
    start = fields.DateTime("Start", required=True, readonly=True)
    duration = fields.Integer("Duration (s)", readonly=True)
    volume = fields.Integer("Volume (KB)", readonly=True)
    units = fields.Integer("Units", required=True, readonly=True,
        help="What rating counts: started minutes, messages or KB.")
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')
    charge = Monetary("Pre-Rated Charge", currency='currency',
        digits='currency',
        readonly=True, help="Set when the record arrived already rated.")
    source_key = fields.Char("Source Key", required=True, readonly=True,
        help="Record identity in the exchanged files: a re-import skips it.")
    bill_line = fields.Function(fields.Many2One('telecom.bill.line',
            "Bill Line"), 'get_bill_line', searcher='search_bill_line')
    billed = fields.Function(fields.Boolean("Billed"), 'get_billed',
        searcher='search_billed')
    import_ = fields.Many2One('telecom.usage.import', "Import",
        readonly=True, ondelete='RESTRICT',
        help="The file the record came from.")
    type_string = type.translated('type')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('subscriber')
        t = cls.__table__()
        cls._sql_constraints = [
            # with the start: on PostgreSQL the table is partitioned by
            # month and a unique key must hold the partition key. Its index
            # leads with the key, so the import's lookup of known keys by
            # the key alone uses it (one index scan per partition).
            ('source_key_unique', Unique(t, t.source_key, t.start),
                'crm_billing.msg_usage_source_key_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.subscriber, Index.Range()),
                    (t.start, Index.Range())),
                Index(t, (t.import_, Index.Range())),
                })
        cls._order = [('start', 'DESC'), ('id', 'DESC')]

    # --- monthly partitions (PostgreSQL) --------------------------------
    #
    # On PostgreSQL the table is partitioned by range of start, one
    # partition per calendar month (telecom_usage_202611 holds November
    # 2026): a query on a month's range reads only its partition, and an old
    # month is detached from the table in one statement. The partitions are
    # created before the rows of their month are written (ensure_partitions,
    # called by every writer and by the daily cron for the current and next
    # month). There is no DEFAULT partition: a row of a month without its
    # partition is refused instead of landing where creating the month's
    # partition later would have to move it. SQLite keeps a plain table.

    @classmethod
    def __register__(cls, module):
        partitioned = backend.name == 'postgresql'
        unpartitioned = None
        if partitioned:
            unpartitioned = cls._create_partitioned_table()
        else:
            cls._migrate_sqlite_source_key()
        # Tryton adds the columns, foreign keys and constraints to the
        # partitioned table as to any other; the partitions take them from it
        super().__register__(module)
        if partitioned and cls._relkind(cls._table) == 'p':
            if unpartitioned:
                cls._move_rows(unpartitioned)
            cls.create_partitions()

    @classmethod
    def _update_sql_indexes(cls, concurrently=False):
        # PostgreSQL builds the index of a partitioned table in one
        # statement over its partitions, never concurrently
        if (concurrently and backend.name == 'postgresql'
                and cls._relkind(cls._table) == 'p'):
            concurrently = False
        super()._update_sql_indexes(concurrently=concurrently)

    @classmethod
    def _relkind(cls, name):
        "The kind of the relation name: 'p' partitioned, 'r' table, or None"
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT relkind FROM pg_class '
            'WHERE oid = to_regclass(%s)', (_quote(name),))
        row = cursor.fetchone()
        return row[0] if row else None

    @classmethod
    def _create_partitioned_table(cls):
        """Create the table partitioned by month of start, with only the id
        and the start (Tryton adds the other columns); a table of a database
        from before the partitions is renamed aside, its name returned: its
        rows are moved once Tryton has added the columns"""
        table = cls._table
        kind = cls._relkind(table)
        if kind == 'p':
            return None
        cursor = Transaction().connection.cursor()
        old = None
        if kind == 'r':
            old = table + '_unpartitioned'
            logger.info("partitioning %s by month: %s renamed %s",
                table, table, old)
            cursor.execute('SELECT pg_get_serial_sequence(%s, %s)',
                (_quote(table), 'id'))
            sequence, = cursor.fetchone()
            cursor.execute('ALTER TABLE %s RENAME TO %s'
                % (_quote(table), _quote(old)))
            if sequence:
                cursor.execute('ALTER SEQUENCE %s RENAME TO %s'
                    % (sequence, _quote(old + '_id_seq')))
            # index names are the schema's: free those of the new table
            cursor.execute('SELECT c.relname, con.conname '
                'FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid '
                'LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid '
                'AND con.conrelid = i.indrelid '
                'WHERE i.indrelid = to_regclass(%s)', (_quote(old),))
            for index, constraint in cursor.fetchall():
                if constraint:
                    cursor.execute('ALTER TABLE %s DROP CONSTRAINT %s'
                        % (_quote(old), _quote(constraint)))
                else:
                    cursor.execute('DROP INDEX %s' % _quote(index))
        # the primary key holds the partition key, as PostgreSQL requires;
        # the id stays an identity column, as Tryton makes them
        cursor.execute('CREATE TABLE %(table)s ('
            'id INTEGER GENERATED BY DEFAULT AS IDENTITY, '
            'start %(type)s NOT NULL, '
            'CONSTRAINT %(pkey)s PRIMARY KEY (id, start)) '
            'PARTITION BY RANGE (start)' % {
                'table': _quote(table),
                'type': cls.start.sql_type()[1],
                'pkey': _quote(table + '_pkey'),
                })
        # a table handler kept by the transaction forgets the table before
        backend.TableHandler(cls)._init(cls)
        return old

    @classmethod
    def _move_rows(cls, old):
        "The rows of the table from before the partitions into the partitions"
        cursor = Transaction().connection.cursor()
        table = cls._table

        def columns(name):
            cursor.execute('SELECT attname FROM pg_attribute '
                'WHERE attrelid = to_regclass(%s) AND attnum > 0 '
                'AND NOT attisdropped ORDER BY attnum', (_quote(name),))
            return [c for c, in cursor]
        old_columns = set(columns(old))
        common = ', '.join(_quote(c) for c in columns(table)
            if c in old_columns)
        cursor.execute("SELECT DISTINCT date_trunc('month', start) FROM %s"
            % _quote(old))
        cls.ensure_partitions([m for m, in cursor.fetchall()])
        cursor.execute('INSERT INTO %s (%s) SELECT %s FROM %s' % (
                _quote(table), common, common, _quote(old)))
        logger.info("partitioning %s by month: %s rows moved",
            table, cursor.rowcount)
        # new records go on with the ids where the old table stopped
        cursor.execute('SELECT pg_get_serial_sequence(%s, %s)',
            (_quote(old), 'id'))
        sequence, = cursor.fetchone()
        if sequence:
            cursor.execute('SELECT last_value, is_called FROM %s'
                % sequence)
            value, called = cursor.fetchone()
        else:
            cursor.execute('SELECT MAX(id) FROM %s' % _quote(old))
            value, = cursor.fetchone()
            called = True
        if value:
            cursor.execute('SELECT setval(pg_get_serial_sequence(%s, %s), '
                '%s, %s)', (_quote(table), 'id', value, called))
        cursor.execute('DROP TABLE %s' % _quote(old))

    @classmethod
    def _migrate_sqlite_source_key(cls):
        """The unique source key of a database from before the partitions
        gets the start too, as on PostgreSQL (the index is dropped here and
        created again by Tryton)"""
        cursor = Transaction().connection.cursor()
        name = cls._table + '_source_key_unique'
        cursor.execute('PRAGMA index_info("%s")' % name.replace('"', '""'))
        if [r[2] for r in cursor.fetchall()] == ['source_key']:
            cursor.execute('DROP INDEX "%s"' % name.replace('"', '""'))

    @classmethod
    def partition_name(cls, month):
        "The name of the partition of the month of a date"
        return '%s_%04d%02d' % (cls._table, month.year, month.month)

    @classmethod
    def partitions(cls):
        """The monthly partitions of the table: [(first day of the month,
        table name, attached)] by month, detached ones included while their
        table exists; [] on SQLite"""
        if backend.name != 'postgresql':
            return []
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT c.relname, c.relispartition '
            'FROM pg_class p JOIN pg_class c '
            'ON c.relnamespace = p.relnamespace '
            "AND c.relkind IN ('r', 'p') "
            "AND c.relname ~ ('^' || p.relname || '_[0-9]{6}$') "
            'WHERE p.oid = to_regclass(%s)', (_quote(cls._table),))
        result = []
        for name, attached in cursor:
            suffix = name[-6:]
            month = dt.date(int(suffix[:4]), int(suffix[4:]), 1)
            result.append((month, name, attached))
        return sorted(result)

    @classmethod
    def _partition_state(cls, names):
        """{name: attached} of those names that are tables of the table's
        schema, or None when the table is not partitioned"""
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT p.relkind, c.relname, '
            'COALESCE(i.inhparent = p.oid, false) '
            'FROM pg_class p LEFT JOIN pg_class c '
            'ON c.relnamespace = p.relnamespace AND c.relname = ANY(%s) '
            "AND c.relkind IN ('r', 'p') "
            'LEFT JOIN pg_inherits i ON i.inhrelid = c.oid '
            'WHERE p.oid = to_regclass(%s)',
            (list(names), _quote(cls._table)))
        rows = cursor.fetchall()
        if not rows or rows[0][0] != 'p':
            return None
        return {name: attached for _, name, attached in rows if name}

    @classmethod
    def ensure_partitions(cls, dates):
        """Create the partitions missing for the months of dates (dates or
        datetimes, None ignored) on PostgreSQL; nothing on SQLite.

        The catalogue is read first: no DDL when every month has its
        partition (one query). A missing partition is created empty and
        attached in the caller's transaction, under a lock on the table
        that readers and writers of usage do not wait for (two creators of
        partitions do); until that transaction ends, writes to the tables
        the usage's foreign keys point to (lines, imports) wait, which is
        why the cron makes the months before their records arrive. A month
        whose partition was detached is refused with UsageImportError while
        its table exists."""
        if backend.name != 'postgresql':
            return
        # one pass over the dates (a tenth of a second per million)
        months = {(d.year, d.month) for d in dates if d is not None}
        names = {cls.partition_name(dt.date(y, m, 1)): dt.date(y, m, 1)
            for y, m in months}
        if not names:
            return
        state = cls._partition_state(names)
        if state is None or all(state.get(n) for n in names):
            return
        cursor = Transaction().connection.cursor()
        table = _quote(cls._table)
        # a second writer of the same new month waits here, then finds it
        cursor.execute('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE'
            % table)
        state = cls._partition_state(names)
        for name, month in sorted(names.items(), key=lambda i: i[1]):
            if state.get(name):
                continue
            if name in state:
                raise UsageImportError(gettext(
                        'crm_billing.msg_usage_partition_detached',
                        month=month.strftime('%Y-%m'), table=name))
            after = month + relativedelta(months=1)
            # created aside then attached: CREATE TABLE ... PARTITION OF
            # would lock the whole table against readers until the commit
            cursor.execute('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS)'
                % (_quote(name), table))
            cursor.execute("ALTER TABLE %s ATTACH PARTITION %s "
                "FOR VALUES FROM ('%s') TO ('%s')" % (table, _quote(name),
                    month.isoformat(), after.isoformat()))
            logger.info("usage partition %s created", name)

    @classmethod
    def create_partitions(cls):
        "The partitions of the current and the next month (daily cron)"
        today = Pool().get('ir.date').today()
        cls.ensure_partitions([today, today + relativedelta(months=1)])

    @classmethod
    def detach_partition(cls, month):
        """Detach the partition of the month of a date from the table: its
        records leave telecom_usage and stay in the table of the partition's
        name, for the administrator to archive and drop. Only a month
        before the current one whose bill cycles are all billed; raise
        BillingError otherwise. Return the name of the detached table."""
        month = dt.date(month.year, month.month, 1)
        label = month.strftime('%Y-%m')
        if (backend.name != 'postgresql'
                or cls._relkind(cls._table) != 'p'):
            raise BillingError(gettext(
                    'crm_billing.msg_usage_partition_backend'))
        today = Pool().get('ir.date').today()
        if month >= dt.date(today.year, today.month, 1):
            raise BillingError(gettext(
                    'crm_billing.msg_usage_partition_current', month=label))
        name = cls.partition_name(month)
        if not cls._partition_state([name]).get(name):
            raise BillingError(gettext(
                    'crm_billing.msg_usage_partition_missing', month=label))
        cycle = cls._unbilled_cycle(month, name)
        if cycle:
            raise BillingError(gettext(
                    'crm_billing.msg_usage_partition_unbilled', month=label,
                    cycle=cycle.isoformat()))
        cursor = Transaction().connection.cursor()
        cursor.execute('ALTER TABLE %s DETACH PARTITION %s'
            % (_quote(cls._table), _quote(name)))
        logger.info("usage partition %s detached", name)
        return name

    @classmethod
    def _unbilled_cycle(cls, month, name):
        """The first bill cycle that covers days of the month, of an account
        with usage in the partition name, without a bill run done; None
        when there is none (or the partition is empty)"""
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        Account = pool.get('telecom.account')
        BillRun = pool.get('telecom.bill.run')
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT DISTINCT a.bill_cycle_day FROM %s u '
            'JOIN %s s ON s.id = u.subscriber '
            'JOIN %s a ON a.id = s.account' % (_quote(name),
                _quote(Subscriber._table), _quote(Account._table)))
        days = [d for d, in cursor]
        # a cycle from the day d of a month runs to the day before d of the
        # next one: the month's days are in the cycles starting on its day d
        # and, but for d = 1, in those starting on day d of the month before
        before = month - relativedelta(months=1)
        cycles = {month.replace(day=d) for d in days}
        cycles.update(before.replace(day=d) for d in days if d > 1)
        if not cycles:
            return None
        done = {r.period_start for r in BillRun.search([
                    ('period_start', 'in', list(cycles)),
                    ('state', '=', 'done'),
                    ])}
        unbilled = sorted(cycles - done)
        return unbilled[0] if unbilled else None

    @classmethod
    def create(cls, vlist):
        cls.before_writing(_datetime(v.get('start')) for v in vlist)
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        cls.ensure_partitions(_datetime(values.get('start'))
            for values in args[1::2])
        super().write(*args)

    @classmethod
    def default_roaming(cls):
        return False

    @fields.depends('subscriber', '_parent_subscriber.company')
    def on_change_with_currency(self, name=None):
        if self.subscriber:
            return company_currency(self.subscriber.company)

    @classmethod
    def _charged(cls, usage):
        "usage joined to the bill lines that charged it"
        from .rating import usage_of_line
        pool = Pool()
        line = pool.get('telecom.bill.line').__table__()
        bill = pool.get('telecom.bill').__table__()
        return line, usage.join(line, condition=usage.subscriber
            == line.subscriber).join(bill, condition=(bill.id == line.bill)
            & usage_of_line(usage, line, bill))

    @classmethod
    def get_bill_line(cls, usages, name):
        usage = cls.__table__()
        line, join = cls._charged(usage)
        cursor = Transaction().connection.cursor()
        result = dict.fromkeys((u.id for u in usages), None)
        for sub_ids in grouped_slice(list(result), 1000):
            cursor.execute(*join.select(usage.id, line.id,
                    where=usage.id.in_(list(sub_ids))))
            result.update(cursor)
        return result

    @classmethod
    def search_bill_line(cls, name, clause):
        """The records a bill line charged: derived from the line (its
        line, kind and days) and its bill's watermarks"""
        Line = Pool().get('telecom.bill.line')
        usage = cls.__table__()
        line, join = cls._charged(usage)
        _, operator, value = clause[:3]
        nested = clause[0][len(name) + 1:]
        if not nested and value is None and operator in {'=', '!='}:
            outer = cls.__table__()
            charged = Exists(join.select(line.id, where=usage.id == outer.id))
            return [('id', 'in', outer.select(outer.id,
                        where=charged if operator == '!=' else ~charged))]
        domain = [((nested or 'id'),) + tuple(clause[1:])]
        lines = Line.search(domain, order=[], query=True)
        return [('id', 'in', join.select(usage.id,
                    where=line.id.in_(lines)))]

    def get_billed(self, name):
        return self.bill_line is not None

    @classmethod
    def search_billed(cls, name, clause):
        _, operator, value = clause
        if operator not in {'=', '!='}:
            return []
        billed = bool(value) == (operator == '=')
        return [('bill_line', '!=' if billed else '=', None)]

    @classmethod
    def before_writing(cls, dates):
        """Writers of new usage call this first with the dates they write:
        the months get their partitions, and the writer takes the lock a bill
        run fixing its last record waits on"""
        cls.ensure_partitions(dates)
        if backend.name == 'postgresql':
            Transaction().connection.cursor().execute(
                'SELECT pg_advisory_xact_lock_shared(%s)', (WRITE_LOCK,))

    @classmethod
    def last_written(cls):
        """Id of the last usage record written: every record up to it is
        committed and every later one gets a greater id, since the writers
        wait for the caller's commit (before_writing)"""
        cursor = Transaction().connection.cursor()
        if backend.name == 'postgresql':
            cursor.execute('SELECT pg_advisory_xact_lock(%s)', (WRITE_LOCK,))
            # the sequence, not the table: this transaction's snapshot may
            # predate the writers it waited for
            cursor.execute('SELECT pg_get_serial_sequence(%s, %s)',
                (cls._table, 'id'))
            sequence, = cursor.fetchone()
            cursor.execute('SELECT last_value, is_called FROM %s' % sequence)
            last, called = cursor.fetchone()
            return last if called else 0
        usage = cls.__table__()
        cursor.execute(*usage.select(Max(usage.id)))
        return cursor.fetchone()[0] or 0

    @classmethod
    def import_csv(cls, data, import_=None):
        """Import a switch's CSV file (bytes, UTF-8 with or without BOM, or
        GBK): every row, or none when a row is wrong; return (imported,
        skipped).

        Raise UsageImportError listing each problem (line, field, value).
        Records already imported or repeated in the file are skipped.
        With import_ (a draft telecom.usage.import holding the file) the
        records are linked to it and it records the outcome, in the
        caller's transaction (not through the queue)."""
        UsageImport = Pool().get('telecom.usage.import')
        if import_ is None:
            file = UsageImport(file=data, format='switch',
                state='draft').load()
            return file.imported, file.skipped
        if import_.state != 'draft':
            raise UsageImportError(gettext(
                    'crm_billing.msg_usage_import_done',
                    name=import_.rec_name))
        UsageImport.process([import_], commit=False)
        import_ = UsageImport(import_.id)
        if import_.state == 'failed':
            raise UsageImportError(import_.problems)
        return import_.imported, import_.skipped


def _quote(name):
    "A PostgreSQL identifier"
    return '"%s"' % name.replace('"', '""')


def _datetime(value):
    "A start as the ORM may get it: datetime, ISO string or None"
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value
