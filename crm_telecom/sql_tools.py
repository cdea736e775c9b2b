"Helpers for the set-based SQL paths (bill run, imports, balances)"
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
