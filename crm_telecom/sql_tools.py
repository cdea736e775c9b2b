"Helpers for the set-based SQL paths (bill run, imports, balances)"
from sql import Literal
from sql.functions import Function

from trytond import backend
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
