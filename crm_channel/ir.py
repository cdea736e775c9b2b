from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('telecom.dealer.scorecard|compute_monthly',
                    "Compute Dealer Scorecards"),
                ('telecom.dealer.risk_flag|detect_daily',
                    "Detect Dealer Risks"),
                ])
