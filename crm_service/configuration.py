from decimal import Decimal

from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Id

from crm_telecom.configuration import default_sequence


class Configuration(metaclass=PoolMeta):
    __name__ = 'telecom.configuration'

    service_request_sequence = fields.Many2One('ir.sequence',
        "Service Request Sequence", required=True, domain=[
            ('sequence_type', '=',
                Id('crm_service', 'sequence_type_service_request')),
            ])
    repeat_window_days = fields.Integer("Repeat Complaint Window (Days)",
        required=True, domain=[('repeat_window_days', '>', 0)],
        help="A second complaint of the same customer or number on the "
        "same topic within these days is flagged as a repeat and raised "
        "one priority level.")
    service_calendar = fields.Many2One('telecom.service.calendar',
        "Service Calendar",
        help="The business hours and holidays SLA deadlines are counted "
        "on when the SLA policy names no calendar.")
    regulator_hours = fields.Integer("Regulator Complaint Hours",
        required=True, domain=[('regulator_hours', '>', 0)],
        help="Business hours within which a complaint escalated by the "
        "regulator (工信部申诉) must be resolved, whatever its policy.")
    compensation_approval_amount = fields.Numeric(
        "Compensation Approval Above", digits=(16, 2), required=True,
        domain=[('compensation_approval_amount', '>=', 0)],
        help="Bill credits proposed on a complaint above this amount wait "
        "for a supervisor's approval.")

    default_service_request_sequence = default_sequence(
        'crm_service', 'sequence_service_request')

    @classmethod
    def default_repeat_window_days(cls):
        return 30

    @classmethod
    def default_regulator_hours(cls):
        return 24

    @classmethod
    def default_compensation_approval_amount(cls):
        return Decimal('50.00')
