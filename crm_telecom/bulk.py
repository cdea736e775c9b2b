"""Bulk writing for the set-based paths: the data generator, the usage
import and the bill run.

Rows go in the fastest way the backend has: COPY on PostgreSQL, multi-row
INSERT on SQLite. They bypass the ORM (access rules, validation, history,
caches): callers write only rows they checked themselves, and clear the
caches of the records they changed."""
import contextlib
import datetime as dt
import itertools
import sqlite3
import threading

from sql import Table
from sql.aggregate import Max

try:
    from psycopg.copy import LibpqWriter
except ImportError:     # SQLite only
    LibpqWriter = object

from trytond import backend
from trytond.transaction import Transaction


class BulkWriter:
    """Writes rows of values for `columns` into the table of Model, with
    create_uid and create_date set as the ORM sets them.

    With ids, write() returns the ids of the rows in their order: taken
    from the table's sequence with Database.nextid on PostgreSQL, numbered
    by SQLite itself (consecutive within one INSERT) there. Without, the
    database numbers the rows and nothing is returned."""

    def __init__(self, Model, columns, ids=False):
        self.model = Model.__name__
        self.table = Model._table
        self.columns = list(columns)
        self.ids = ids
        self.rows = 0
        self._sending = None
        self._types = None      # of the columns, for a binary COPY

    def write(self, rows):
        if not rows:
            return [] if self.ids else None
        if backend.name == 'postgresql':
            ids = self._copy(rows)
        else:
            ids = self._insert(rows)
        self.rows += len(rows)
        if self.ids:
            # as the ORM's create: the transaction's own new records need
            # no lock (Model.lock skips them)
            Transaction().create_records[self.model].extend(ids)
        return ids

    def _copy(self, rows):
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        user, now = transaction.user, dt.datetime.now()
        columns = self.columns + ['create_uid', 'create_date']
        if self.ids:
            ids = transaction.database.nextid(
                transaction.connection, self.table, count=len(rows))
            if len(rows) == 1:
                ids = [ids]
            columns.insert(0, 'id')
        sql = 'COPY "%s" (%s) FROM STDIN' % (
            self.table, ', '.join('"%s"' % c for c in columns))
        with cursor.copy(sql) as copy:
            write_row = copy.write_row
            if self.ids:
                for id_, row in zip(ids, rows):
                    write_row((id_, *row, user, now))
            else:
                for row in rows:
                    write_row((*row, user, now))
        return ids if self.ids else None

    def send(self, rows):
        """COPY the rows without waiting for the server (PostgreSQL, without
        ids): a thread sends them and waits for the end of the COPY, which
        runs the checks of the foreign keys, while the caller goes on.
        Until then the other statements of the transaction wait for the
        connection; end() waits for it and raises its error. rows: an
        iterable."""
        assert backend.name == 'postgresql' and not self.ids
        self.end()
        rows = iter(rows)
        row = next(rows, None)
        if row is None:
            return
        rows = itertools.chain([row], rows)
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        user, now = transaction.user, dt.datetime.now()
        columns = self.columns + ['create_uid', 'create_date']
        if self._types is None:
            cursor.execute('SELECT attname, atttypid FROM pg_attribute '
                'WHERE attrelid = to_regclass(%s) AND attname = ANY(%s)',
                ('"%s"' % self.table, columns))
            types = dict(cursor)
            self._types = [types[c] for c in columns]
        # binary: a fifth of the time to format the rows, and the server
        # parses no text
        sql = 'COPY "%s" (%s) FROM STDIN (FORMAT BINARY)' % (
            self.table, ', '.join('"%s"' % c for c in columns))
        stack = contextlib.ExitStack()
        # the COPY holds the lock of the connection until the thread ends it
        copy = stack.enter_context(
            cursor.copy(sql, writer=_HeldWriter(cursor)))
        try:
            copy.set_types(self._types)
            write_row = copy.write_row
            count = 0
            for count, row in enumerate(rows, 1):
                write_row((*row, user, now))
        except BaseException as exception:
            stack.__exit__(type(exception), exception,
                exception.__traceback__)
            raise
        self._sending = _Ending(stack)
        self._sending.start()
        self.rows += count

    def end(self):
        "Wait for the COPY of send() to end; raise its error"
        sending, self._sending = self._sending, None
        if sending is not None:
            sending.join()
            if sending.error is not None:
                raise sending.error

    def _insert(self, rows):
        transaction = Transaction()
        database = transaction.database
        cursor = transaction.connection.cursor()
        user, now = transaction.user, dt.datetime.now()
        table = Table(self.table)
        columns = [getattr(table, c)
            for c in self.columns + ['create_uid', 'create_date']]
        step = max(1, transaction.connection.getlimit(
                sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(columns))
        ids = []
        for i in range(0, len(rows), step):
            chunk = [(*row, user, now) for row in rows[i:i + step]]
            cursor.execute(*table.insert(columns, chunk))
            if self.ids:
                last = database.lastid(cursor)
                ids.extend(range(last - len(chunk) + 1, last + 1))
        return ids if self.ids else None

    def analyze(self):
        "Statistics of the table after a large write (PostgreSQL)"
        if backend.name == 'postgresql':
            cursor = Transaction().connection.cursor()
            cursor.execute('ANALYZE "%s"' % self.table)


class _HeldWriter(LibpqWriter):
    "Keeps the data of the rows for the thread that ends the COPY to send"

    def __init__(self, cursor):
        super().__init__(cursor)
        self.data = []

    def write(self, data):
        self.data.append(data)

    def finish(self, exc=None):
        if exc is None:
            for data in self.data:
                super().write(data)
        super().finish(exc)


class _Ending(threading.Thread):
    "Ends a COPY (its context) and keeps its error"

    def __init__(self, stack):
        super().__init__(daemon=True)
        self.stack = stack
        self.error = None

    def run(self):
        try:
            self.stack.close()
        except BaseException as exception:
            self.error = exception


def reserve_ids(Model, count):
    """The next count ids of Model's table, taken before its rows are
    written (rows that point to them can be written first): from the
    table's sequence on PostgreSQL; on SQLite from its AUTOINCREMENT
    counter, moved past them (writers take turns there)"""
    if not count:
        return []
    transaction = Transaction()
    database, connection = transaction.database, transaction.connection
    if backend.name == 'postgresql':
        ids = database.nextid(connection, Model._table, count=count)
        return [ids] if count == 1 else ids
    # AUTOINCREMENT never gives an id again: past the greatest id ever
    # given (sqlite_sequence), which is at least the greatest id there is
    table, sequence = Table(Model._table), Table('sqlite_sequence')
    cursor = connection.cursor()
    cursor.execute(*table.select(Max(table.id)))
    last, = cursor.fetchone()
    cursor.execute(*sequence.select(sequence.seq,
            where=sequence.name == Model._table))
    given = cursor.fetchone()
    last = max(last or 0, given[0] if given else 0)
    database.setnextid(connection, Model._table, last + count + 1)
    return list(range(last + 1, last + count + 1))


def reserve_codes(sequence, count):
    """The next count codes of a sequence, the sequence moved past them
    with one write (asking the sequence code by code costs more than
    writing the rows that carry them)"""
    Sequence = sequence.__class__
    if sequence.type != 'incremental':
        return list(sequence.get_many(count))
    first = sequence.number_next
    step = sequence.number_increment
    Sequence.write([sequence], {'number_next': first + count * step})
    prefix = Sequence._process(sequence.prefix)
    suffix = Sequence._process(sequence.suffix)
    padding = sequence.padding
    return ['%s%0*d%s' % (prefix, padding, n, suffix)
        for n in range(first, first + count * step, step)]
