from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access


class Order(metaclass=PoolMeta):
    __name__ = 'telecom.order'

    @classmethod
    def _acknowledged_at_once(cls, orders):
        """One outbox request per order that changes the network, written
        in this transaction; only the orders it acknowledged already (no
        endpoint configured) and transfers, which change nothing on the
        network, complete now"""
        Request = Pool().get('telecom.provisioning.request')
        requests = Request.create_for_orders(orders)
        acknowledged = {r.order for r in requests if r.state == 'done'}
        return [o for o in orders
            if o in acknowledged or o.type == 'transfer']

    @classmethod
    def complete(cls, orders):
        Request = Pool().get('telecom.provisioning.request')
        super().complete(orders)
        Request.orders_completed(orders)

    @classmethod
    def _progress_steps(cls, orders):
        "What the outbox did between the submission and the outcome"
        Request = Pool().get('telecom.provisioning.request')
        steps = super()._progress_steps(orders)
        # the order's own story, whoever may read the outbox
        with without_check_access():
            requests = Request.search([
                    ('order', 'in', [o.id for o in orders]),
                    ('channel', '=', 'network'),
                    ], order=[('id', 'ASC')])
            for request in requests:
                steps.setdefault(request.order.id, {}).update(
                    request.get_progress_steps())
        return steps
