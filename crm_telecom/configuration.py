from decimal import Decimal

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Id


def _default_sequence(xml_id):
    def default(cls):
        try:
            return Pool().get('ir.model.data').get_id('crm_telecom', xml_id)
        except KeyError:
            return None
    return classmethod(default)


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Telecom business rules, set by administrators in the client"
    __name__ = 'telecom.configuration'

    max_lines_per_identity = fields.Integer(
        "Max Lines per Identity", required=True,
        domain=[('max_lines_per_identity', '>', 0)],
        help="Real-name rule: how many live lines one identity document "
        "may hold.")
    cooling_days = fields.Integer(
        "Number Cooling Days", required=True,
        domain=[('cooling_days', '>=', 0)],
        help="Days a terminated number rests before it can be reused.")
    reservation_hours = fields.Integer(
        "Reservation Hours", required=True,
        domain=[('reservation_hours', '>', 0)],
        help="How long a number stays reserved by a draft order.")

    account_sequence = fields.Many2One('ir.sequence', "Account Sequence",
        required=True, domain=[
            ('sequence_type', '=',
                Id('crm_telecom', 'sequence_type_account')),
            ])
    order_sequence = fields.Many2One('ir.sequence', "Order Sequence",
        required=True, domain=[
            ('sequence_type', '=',
                Id('crm_telecom', 'sequence_type_order')),
            ])

    payment_sequence = fields.Many2One('ir.sequence', "Payment Sequence",
        required=True, domain=[
            ('sequence_type', '=',
                Id('crm_telecom', 'sequence_type_payment')),
            ])

    # billing
    bill_due_days = fields.Integer("Bill Due Days", required=True,
        domain=[('bill_due_days', '>=', 0)],
        help="Days after the end of a cycle by which its bill must be paid.")
    adjustment_approval_amount = fields.Numeric(
        "Adjustment Approval Above", digits=(16, 2), required=True,
        domain=[('adjustment_approval_amount', '>=', 0)],
        help="Adjustments larger than this amount need a second person "
        "to approve them.")
    prepaid_suspend_threshold = fields.Numeric(
        "Prepaid Suspension Below", digits=(16, 2), required=True,
        help="A prepaid line is suspended when its account balance falls "
        "below this amount.")

    # provisioning and notifications
    provisioning_url = fields.Char("Provisioning Endpoint",
        help="URL of the network/BOSS provisioning interface. "
        "Empty: orders are acknowledged locally at once.")
    sms_url = fields.Char("SMS Gateway Endpoint",
        help="URL of the SMS gateway. Empty: messages are marked sent "
        "locally.")
    request_timeout = fields.Float("Request Timeout (s)", required=True,
        domain=[('request_timeout', '>', 0)])
    max_attempts = fields.Integer("Max Attempts", required=True,
        domain=[('max_attempts', '>', 0)],
        help="After this many failed attempts a request is marked dead "
        "and the billing operators are alerted.")
    retry_delay = fields.Integer("First Retry Delay (s)", required=True,
        domain=[('retry_delay', '>', 0)],
        help="Delay before the first retry; it doubles on every attempt.")

    default_account_sequence = _default_sequence('sequence_account')
    default_order_sequence = _default_sequence('sequence_order')
    default_payment_sequence = _default_sequence('sequence_payment')

    @classmethod
    def default_max_lines_per_identity(cls):
        return 5

    @classmethod
    def default_cooling_days(cls):
        return 90

    @classmethod
    def default_reservation_hours(cls):
        return 72

    @classmethod
    def default_bill_due_days(cls):
        return 15

    @classmethod
    def default_adjustment_approval_amount(cls):
        return Decimal('100.00')

    @classmethod
    def default_prepaid_suspend_threshold(cls):
        return Decimal('0.00')

    @classmethod
    def default_request_timeout(cls):
        return 10.0

    @classmethod
    def default_max_attempts(cls):
        return 6

    @classmethod
    def default_retry_delay(cls):
        return 30
