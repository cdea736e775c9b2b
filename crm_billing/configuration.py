from decimal import Decimal

from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Id

from crm_telecom.configuration import default_sequence


class Configuration(metaclass=PoolMeta):
    __name__ = 'telecom.configuration'

    payment_sequence = fields.Many2One('ir.sequence', "Payment Sequence",
        required=True, domain=[
            ('sequence_type', '=',
                Id('crm_billing', 'sequence_type_payment')),
            ])
    bill_due_days = fields.Integer("Bill Due Days", required=True,
        domain=[('bill_due_days', '>=', 0)],
        help="Days after the end of a cycle by which its bill must be paid.")
    adjustment_approval_amount = fields.Numeric(
        "Adjustment Approval Above", digits=(16, 2), required=True,
        domain=[('adjustment_approval_amount', '>=', 0)],
        help="Adjustments larger than this amount need a second person "
        "to approve them.")

    bill_run_workers = fields.Integer("Bill Run Workers", required=True,
        domain=[('bill_run_workers', '>=', 1)],
        help="Started from the client, a bill run adds up the cycle's "
        "usage in this many parts side by side, each a pass over the "
        "month: up to the number of queue worker processes that bill, "
        "while the database has the cores and memory for the passes.")

    default_payment_sequence = default_sequence(
        'crm_billing', 'sequence_payment')

    @classmethod
    def default_bill_due_days(cls):
        return 15

    @classmethod
    def default_adjustment_approval_amount(cls):
        return Decimal('100.00')

    @classmethod
    def default_bill_run_workers(cls):
        return 2
