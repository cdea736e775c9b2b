from trytond.i18n import gettext
from trytond.pool import PoolMeta


class Order(metaclass=PoolMeta):
    "With crm_provisioning: the network's answer to a payment's restoration"
    __name__ = 'telecom.order'

    @classmethod
    def _network_notifications(cls, orders):
        """The operator who posted the payment is told that the line and
        its services are back (or why not)"""
        Payment = cls.payment.get_target()
        texts = super()._network_notifications(orders)
        restorations = [o for o in orders
            if o.type == 'resume' and o.payment]
        services = Payment._restored_services(restorations)
        for order in restorations:
            description = gettext('crm_dunning.msg_restoration_notification',
                payment=order.payment.rec_name, order=order.rec_name)
            if services[order.id]:
                description = gettext('crm_dunning.msg_restoration_services',
                    text=description, services='、'.join(services[order.id]))
            texts[order.id] = (
                order.restoration_text(services[order.id], detail=False),
                description)
        return texts
