"Group customer rules set in the client"
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Id

from crm_telecom.configuration import default_sequence


class Configuration(metaclass=PoolMeta):
    __name__ = 'telecom.configuration'

    group_code_sequence = fields.Many2One('ir.sequence',
        "Group Code Sequence", required=True, domain=[
            ('sequence_type', '=',
                Id('crm_group_customer', 'sequence_type_group_code')),
            ])

    default_group_code_sequence = default_sequence(
        'crm_group_customer', 'sequence_group_code')
