"Open a Tryton database from a command-line tool"
import contextlib


@contextlib.contextmanager
def open_database(config_file, database, user=0, context=None):
    from trytond import config
    config.update_etc(config_file)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(database)
    pool.init()
    with Transaction().start(database, user, readonly=False,
            context=context or {}) as transaction:
        yield transaction
