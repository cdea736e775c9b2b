from decimal import Decimal

from trytond.model import fields
from trytond.pool import PoolMeta


class Configuration(metaclass=PoolMeta):
    __name__ = 'telecom.configuration'

    prepaid_suspend_threshold = fields.Numeric(
        "Prepaid Suspension Below", digits=(16, 2), required=True,
        help="A prepaid line is suspended when its account balance falls "
        "below this amount.")

    @classmethod
    def default_prepaid_suspend_threshold(cls):
        return Decimal('0.00')
