from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('telecom.number|release_cooled',
                    "Release Cooled Numbers"),
                ('telecom.order|cancel_expired_reservations',
                    "Cancel Expired Number Reservations"),
                ('telecom.subscriber|apply_pending_plans',
                    "Apply Scheduled Plan Changes"),
                ])
