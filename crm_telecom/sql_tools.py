"Helpers for the set-based SQL paths (bill run, imports, balances)"
import datetime as dt
from decimal import Decimal

from trytond.transaction import Transaction

CENT = Decimal('0.01')


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


def as_date(value):
    "SQLite returns dates as text from joins and aggregates"
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def as_money(value):
    "Amounts read with plain SQL, to the cent (SQLite may give floats)"
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT)
