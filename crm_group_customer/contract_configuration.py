"Group contract and group order rules set in the client"
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Id

from crm_telecom.configuration import default_sequence


class Configuration(metaclass=PoolMeta):
    __name__ = 'telecom.configuration'

    group_contract_sequence = fields.Many2One('ir.sequence',
        "Group Contract Sequence", required=True, domain=[
            ('sequence_type', '=',
                Id('crm_group_customer', 'sequence_type_group_contract')),
            ])
    group_order_sequence = fields.Many2One('ir.sequence',
        "Group Order Sequence", required=True, domain=[
            ('sequence_type', '=',
                Id('crm_group_customer', 'sequence_type_group_order')),
            ])
    contract_reminder_days = fields.Integer("Contract Reminder Days",
        required=True, domain=[('contract_reminder_days', '>=', 0)],
        help="Days before its end a group contract is expiring: the "
        "account manager is told and a renewal opportunity opened.")

    default_group_contract_sequence = default_sequence(
        'crm_group_customer', 'sequence_group_contract')
    default_group_order_sequence = default_sequence(
        'crm_group_customer', 'sequence_group_order')

    @classmethod
    def default_contract_reminder_days(cls):
        return 60
