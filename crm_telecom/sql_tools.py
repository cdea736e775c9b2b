"Helpers for the set-based SQL paths (bill run, imports, balances)"
from sql import Literal, Select, Values
from sql.functions import Function
from sql.operators import In

from trytond import backend
from trytond.tools import grouped_slice
from trytond.transaction import Transaction


def clear_cache(Model, ids=None):
    "Direct SQL bypasses the ORM caches of this transaction: drop them"
    transaction = Transaction()
    transaction.counter += 1
    for cache in transaction.cache.values():
        if Model.__name__ in cache:
            if ids is None:
                cache[Model.__name__].clear()
            else:
                for id_ in ids:
                    cache[Model.__name__].pop(id_, None)


class UncheckedReferences:
    """Mixin of the tables set-based runs write in bulk, each row taken
    from rows the statement joins (so its references exist): the
    Many2One columns named in `_unchecked_references` get no foreign key,
    as PostgreSQL's check of each reference costs about as much as writing
    the row. Deleting what they point to still follows the ORM's own
    ondelete rules (ModelSQL.delete), as on SQLite."""
    __slots__ = ()
    _unchecked_references = set()

    @classmethod
    def __table_handler__(cls, module_name=None, history=False):
        table = super().__table_handler__(module_name, history=history)
        add_fk = table.add_fk

        def add_checked_fk(columns, reference, *args, **kwargs):
            if columns in cls._unchecked_references:
                # the foreign key of an earlier version goes
                table.drop_fk(columns)
            else:
                add_fk(columns, reference, *args, **kwargs)
        table.add_fk = add_checked_fk
        return table


class _JulianDay(Function):
    __slots__ = ()
    _function = 'JULIANDAY'


class _SQLiteDate(Function):
    __slots__ = ()
    _function = 'DATE'


def days_between(end, start):
    "Whole days from the date start to the date end, as SQL"
    if backend.name == 'sqlite':
        return (_JulianDay(end) - _JulianDay(start)).cast('INTEGER')
    return end - start


def day_after(date):
    "The day after a date, as SQL"
    if backend.name == 'sqlite':
        return _SQLiteDate(date, Literal('+1 day'))
    return date + Literal(1)


def _int_array(ids):
    """A list of ids as the text of a PostgreSQL integer array: psycopg
    would look at each element of a list to choose the array's type"""
    return Literal('{%s}' % ','.join(map(str, ids))).cast('INTEGER[]')


def in_ids(column, ids):
    "column is one of ids (a list of integers), as SQL with one parameter"
    if backend.name != 'postgresql':
        return In(column, list(ids) or [None])
    return column == _Any(_int_array(ids))


def stored_values(Model, records, names):
    """{id: [value, ...]} of the named stored columns of the records, one
    query per slice: for Function getters that need two or three columns,
    where reading an attribute of a record loads all its eager columns"""
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    columns = [getattr(table, n) for n in names]
    values = {}
    for sub_ids in grouped_slice([r.id for r in records], 1000):
        cursor.execute(*table.select(table.id, *columns,
                where=in_ids(table.id, list(sub_ids))))
        for id_, *row in cursor:
            values[id_] = row
    return values


class _Any(Function):
    __slots__ = ()
    _function = 'ANY'


class _Unnest(Function):
    __slots__ = ()
    _function = 'UNNEST'


def id_table(rows):
    """A table of rows of ids (column1, column2, ...), as SQL to join: on
    PostgreSQL one array parameter per column, unnested (thousands of
    VALUES parameters cost the client more to send than the statement
    costs the server); VALUES elsewhere"""
    if backend.name != 'postgresql':
        return Values([list(r) for r in rows])
    columns = list(zip(*rows)) if rows else [[]]
    return Select([_Unnest(_int_array(c)).as_('column%s' % (i + 1))
            for i, c in enumerate(columns)])


def day_of(timestamp):
    "The date of a timestamp, as SQL"
    if backend.name == 'sqlite':
        return _SQLiteDate(timestamp)
    return timestamp.cast('DATE')


def execute_planned(cursor, query):
    """Execute a query planned for its own values, never as a prepared
    statement: psycopg prepares a statement run five times, and
    PostgreSQL's generic plan for it does not know how many ids its
    lists hold (a bill run's batches went from 0.1 s to 1.5 s at a
    million lines)"""
    if backend.name == 'postgresql':
        cursor.execute(*query, prepare=False)
    else:
        cursor.execute(*query)


def without_jit():
    """PostgreSQL: no JIT compilation for the rest of this transaction.
    The bill run's statements each handle a batch or a month once: JIT
    compiles them anew at every execution, for more time than it saves."""
    if backend.name == 'postgresql':
        Transaction().connection.cursor().execute('SET LOCAL jit = off')


def analyze_if_empty(Model, rows):
    """PostgreSQL: ANALYZE a table whose statistics count fewer rows than
    the caller just wrote (a new database's tables were analysed empty; the
    planner would then scan them for every row of a join, as it may before
    autovacuum comes)"""
    if backend.name != 'postgresql':
        return
    cursor = Transaction().connection.cursor()
    cursor.execute('SELECT reltuples FROM pg_class WHERE oid = %s::regclass',
        (Model._table,))
    estimate, = cursor.fetchone()
    if estimate < rows:
        analyze(Model)


def analyze(Model):
    "PostgreSQL: fresh planner statistics of a table, in this transaction"
    if backend.name == 'postgresql':
        Transaction().connection.cursor().execute(
            'ANALYZE "%s"' % Model._table)
