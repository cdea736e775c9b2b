from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('telecom.bill.run|run_due', "Run Due Bill Cycles"),
                ('telecom.account.movement|check_balances',
                    "Check Account Balances"),
                ('telecom.usage|create_partitions',
                    "Create Usage Partitions"),
                ])
