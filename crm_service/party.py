from trytond.model import fields
from trytond.pool import Pool, PoolMeta

from crm_telecom.party import grouped_ids

from .share import SharedMixin, column_query

# the 360° view shows the recent requests; older ones are one search away
REQUESTS_SHOWN = 100


class Party(SharedMixin, metaclass=PoolMeta):
    __name__ = 'party.party'

    service_requests = fields.Function(fields.Many2Many(
            'telecom.service_request', None, None, "Service Requests",
            readonly=True,
            help="The last %s requests and complaints, newest first, with "
            "their deadlines." % REQUESTS_SHOWN),
        'get_service_requests')

    @classmethod
    def get_service_requests(cls, parties, name):
        Request = Pool().get('telecom.service_request')
        result = {p.id: [] for p in parties}
        for sub_ids in grouped_ids(parties):
            for row in Request.search_read([
                        ('customer', 'in', sub_ids),
                        ], order=[('create_date', 'DESC'), ('id', 'DESC')],
                    fields_names=['customer']):
                requests = result[row['customer']]
                if len(requests) < REQUESTS_SHOWN:
                    requests.append(row['id'])
        return result

    @classmethod
    def on_modification(cls, mode, parties, field_names=None):
        super().on_modification(mode, parties, field_names=field_names)
        if mode == 'write' and field_names and 'telecom_level' in field_names:
            cls._service_tier_changed(parties)

    @classmethod
    def _service_tier_changed(cls, parties):
        "A new tier takes its SLA policy on the customer's open requests"
        Request = Pool().get('telecom.service_request')
        for sub_ids in grouped_ids(parties):
            Request._sla_recompute(Request.search([
                        ('customer', 'in', sub_ids),
                        ('state', 'in', ['open', 'waiting']),
                        ]))

    @classmethod
    def _service_shared_query(cls, company_ids):
        return column_query(company_ids, 'customer')
