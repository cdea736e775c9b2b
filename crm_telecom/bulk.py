"""Bulk writing for the set-based paths: the data generator, the usage
import and the bill run.

Rows go in the fastest way the backend has: COPY on PostgreSQL, multi-row
INSERT on SQLite. They bypass the ORM (access rules, validation, history,
caches): callers write only rows they checked themselves, and clear the
caches of the records they changed."""
import datetime as dt
import sqlite3

from sql import Table
from sql.aggregate import Max

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
