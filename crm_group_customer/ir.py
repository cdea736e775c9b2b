from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('telecom.group.care|generate', "Raise Group Care Reminders"),
                ('telecom.group.contract|remind_expiring',
                    "Remind Expiring Group Contracts"),
                ('telecom.group.contract|end_due', "End Due Group Contracts"),
                ('party.party|compute_value_levels',
                    "Compute Group Value Levels"),
                ])
