from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('telecom.account|run_dunning', "Run Dunning"),
                ('telecom.account|restore_paid',
                    "Restore Lines of Paid Accounts"),
                ])
