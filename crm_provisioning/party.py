from trytond.model import fields
from trytond.pool import Pool, PoolMeta

from crm_telecom.party import grouped_ids

# outbox requests still worth a look: waiting to go, or given up on
OPEN_REQUEST_STATES = ['pending', 'sent', 'dead']


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    open_provisioning_requests = fields.Function(fields.Many2Many(
            'telecom.provisioning.request', None, None,
            "Open Provisioning Requests", readonly=True,
            help="Network and SMS requests of the customer's lines that are "
            "not acknowledged yet or were given up on."),
        'get_open_provisioning_requests')

    @classmethod
    def get_open_provisioning_requests(cls, parties, name):
        pool = Pool()
        Request = pool.get('telecom.provisioning.request')
        result = {p.id: [] for p in parties}
        for sub_ids in grouped_ids(parties):
            for row in Request.search_read([
                        ('state', 'in', OPEN_REQUEST_STATES),
                        ['OR',
                            ('subscriber.customer', 'in', sub_ids),
                            ('order.customer', 'in', sub_ids),
                            ],
                        ], order=[('id', 'DESC')],
                    fields_names=['subscriber.customer', 'order.customer']):
                # an activation request may name the order before the line
                customers = {
                    (row.get(path + '.') or {}).get('customer')
                    for path in ['subscriber', 'order']}
                for customer in customers & result.keys():
                    result[customer].append(row['id'])
        return result
