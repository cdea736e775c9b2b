"""Workflow transitions for rows that move in bulk.

Buttons and small sets go through Workflow.transition as everywhere in
Tryton. The set-based paths (bills settled by payments and the dunning
run, the number pool claimed by concurrent orders) cannot afford to load
thousands of records, so they call BulkWorkflow.transition_rows: one
conditional UPDATE per thousand rows that keeps the rules of the decorator
(only the transitions in _transitions, write_uid/write_date, the
ir.model.log entry)."""
from sql import Literal
from sql.functions import CurrentTimestamp
from sql.operators import Concat

from trytond.model import Workflow
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .sql_tools import clear_cache


class BulkWorkflow(Workflow):
    __slots__ = ()

    @classmethod
    def transition_rows(cls, state, ids=None, where=None, from_states=None,
            **values):
        """Move to `state` the rows among `ids` (all rows when None) that
        also match `where` (a function of the table returning a condition)
        and whose current state has a transition to `state`, optionally
        narrowed to `from_states`; other columns are set from `values`.

        The condition on the current state is also the lock: of two
        transactions moving one row, the second finds nothing left to move
        (or fails to serialize and is retried). Returns the ids moved."""
        allowed = {f for f, t in cls._transitions if t == state and f != state}
        if from_states is not None:
            assert set(from_states) <= allowed, (from_states, state)
            allowed = set(from_states)
        if not allowed or (ids is not None and not ids):
            return []
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        column = getattr(table, cls._transition_state)
        condition = column.in_(sorted(allowed))
        if where is not None:
            condition &= where(table)

        moved = []
        for sub_ids in (grouped_slice(ids, 1000) if ids is not None
                else [None]):
            sub_where = condition
            if sub_ids is not None:
                sub_where &= SQL_OPERATORS['in'](table.id, list(sub_ids))
            cursor.execute(*table.select(table.id, where=sub_where))
            moved.extend(r for r, in cursor)

        columns = [column, table.write_uid, table.write_date]
        params = [state, transaction.user, CurrentTimestamp()]
        for name, value in values.items():
            columns.append(getattr(table, name))
            params.append(value)
        for sub_ids in grouped_slice(moved, 1000):
            cursor.execute(*table.update(columns, params,
                    where=SQL_OPERATORS['in'](table.id, list(sub_ids))
                    & condition))
        cls._log_transition_rows(moved, state)
        clear_cache(cls, moved)
        return moved

    @classmethod
    def _log_transition_rows(cls, ids, state):
        "The ir.model.log entries Workflow.transition writes, in SQL"
        if not cls._log or not ids:
            return
        Log = Pool().get('ir.model.log')
        log = Log.__table__()
        table = cls.__table__()
        user = Transaction().user
        cursor = Transaction().connection.cursor()
        target = '%s:%s' % (cls._transition_state, state)
        for sub_ids in grouped_slice(ids, 1000):
            cursor.execute(*log.insert([log.resource, log.event, log.target,
                        log.user, log.create_uid, log.create_date],
                    table.select(Concat(cls.__name__ + ',', table.id),
                        Literal('transition'), Literal(target), Literal(user),
                        Literal(user), CurrentTimestamp(),
                        where=SQL_OPERATORS['in'](table.id, list(sub_ids)))))
