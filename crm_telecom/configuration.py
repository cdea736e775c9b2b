from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Id


def default_sequence(module, xml_id):
    "A default for a sequence field: the sequence the module ships"
    def default(cls):
        try:
            return Pool().get('ir.model.data').get_id(module, xml_id)
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
    customer_sequence = fields.Many2One('ir.sequence', "Customer Sequence",
        required=True, domain=[
            ('sequence_type', '=', Id('party', 'sequence_type_party')),
            ],
        help="Numbers every customer, created in the client or loaded.")
    order_sequence = fields.Many2One('ir.sequence', "Order Sequence",
        required=True, domain=[
            ('sequence_type', '=',
                Id('crm_telecom', 'sequence_type_order')),
            ])

    default_account_sequence = default_sequence(
        'crm_telecom', 'sequence_account')
    default_customer_sequence = default_sequence(
        'crm_telecom', 'sequence_customer')
    default_order_sequence = default_sequence('crm_telecom', 'sequence_order')

    @classmethod
    def default_max_lines_per_identity(cls):
        return 5

    @classmethod
    def default_cooling_days(cls):
        return 90

    @classmethod
    def default_reservation_hours(cls):
        return 72
