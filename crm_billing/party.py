from collections import defaultdict

from trytond.model import fields
from trytond.pool import Pool, PoolMeta

from crm_telecom.party import grouped_ids

# what the 360° view shows: enough history to answer a customer on the
# phone without loading years of records
BILL_CYCLES_SHOWN = 12
PAYMENTS_SHOWN = 100


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    bills = fields.Function(fields.Many2Many(
            'telecom.bill', None, None, "Bills", readonly=True,
            help="Bills of the last %s cycles, newest first." %
            BILL_CYCLES_SHOWN),
        'get_bills')
    payments = fields.Function(fields.Many2Many(
            'telecom.payment', None, None, "Payments", readonly=True,
            help="The last %s payments and top-ups, newest first." %
            PAYMENTS_SHOWN),
        'get_payments')

    @classmethod
    def get_bills(cls, parties, name):
        pool = Pool()
        Bill = pool.get('telecom.bill')
        result = {p.id: [] for p in parties}
        cycles = defaultdict(set)
        for sub_ids in grouped_ids(parties):
            for row in Bill.search_read([
                        ('payer', 'in', sub_ids),
                        ], order=[('period_start', 'DESC'), ('id', 'DESC')],
                    fields_names=['payer', 'period_start']):
                # a payer with several accounts has several bills a cycle
                seen = cycles[row['payer']]
                if row['period_start'] not in seen:
                    if len(seen) >= BILL_CYCLES_SHOWN:
                        continue
                    seen.add(row['period_start'])
                result[row['payer']].append(row['id'])
        return result

    @classmethod
    def get_payments(cls, parties, name):
        pool = Pool()
        Payment = pool.get('telecom.payment')
        result = {p.id: [] for p in parties}
        for sub_ids in grouped_ids(parties):
            for row in Payment.search_read([
                        ('payer', 'in', sub_ids),
                        ], order=[('date', 'DESC'), ('id', 'DESC')],
                    fields_names=['payer']):
                payments = result[row['payer']]
                if len(payments) < PAYMENTS_SHOWN:
                    payments.append(row['id'])
        return result


class PartyReplace(metaclass=PoolMeta):
    __name__ = 'party.replace'

    @classmethod
    def fields_to_replace(cls):
        return super().fields_to_replace() + [
            ('telecom.bill', 'payer'),
            ('telecom.payment', 'payer'),
            ]
