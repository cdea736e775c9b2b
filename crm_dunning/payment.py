from collections import defaultdict

from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import without_check_access


class Payment(metaclass=PoolMeta):
    __name__ = 'telecom.payment'

    restoration = fields.Function(fields.Text("Restoration",
            states={'invisible': ~Eval('restoration')},
            help="The lines this payment restores, with their services: "
            "being restored while the network has not answered, then back "
            "(or why not)."),
        'get_restoration')

    @classmethod
    def post(cls, payments):
        """Lines suspended for arrears whose debt the payments clear are
        restored in the same transaction"""
        Account = Pool().get('telecom.account')
        super().post(payments)
        # a consequence of the payment, not something the cashier needs
        # rights on
        with without_check_access():
            Account.restore_paid(
                Account.browse({p.account.id for p in payments}),
                payments=payments)

    @classmethod
    def get_restoration(cls, payments, name):
        """One line of text per line the payment restores: its number, its
        services and how far the restore order went"""
        Order = Pool().get('telecom.order')
        texts = defaultdict(list)
        # the cashier may not read orders: what the payment did is theirs
        with without_check_access():
            orders = Order.search([
                    ('payment', 'in', [p.id for p in payments]),
                    ('type', '=', 'resume'),
                    ], order=[('id', 'ASC')])
            services = cls._restored_services(orders)
            for order in orders:
                texts[order.payment.id].append(
                    order.restoration_text(services[order.id]))
        return {p.id: '\n'.join(texts[p.id]) or None for p in payments}

    @classmethod
    def _restored_services(cls, orders):
        """{order id: [service names]}: those the order brought back, or
        will bring back once it is done"""
        pool = Pool()
        Event = pool.get('telecom.subscriber.event')
        Service = pool.get('telecom.subscriber.service')
        services = {o.id: [] for o in orders}
        done = [o.id for o in orders if o.state == 'done']
        for event in Event.search([
                    ('order', 'in', done),
                    ('type', '=', 'service_resumed'),
                    ], order=[('id', 'ASC')]):
            services[event.order.id].append(event.service.product.rec_name)
        waiting = {o.subscriber.id: o.id for o in orders
            if o.state != 'done'}
        for service in Service.search([
                    ('subscriber', 'in', list(waiting)),
                    ('state', '=', 'suspended'),
                    ], order=[('id', 'ASC')]):
            services[waiting[service.subscriber.id]].append(
                service.product.rec_name)
        return services
