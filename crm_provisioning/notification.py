"""Telling the submitter how the network answered an order.

The network answers after the submitter's request has ended (in the
outbox's task or on the acknowledgement route), so the client would only
see it on a refresh: the user who submitted the order gets a notification
that opens it (the bell of the web client) and a popup through the bus.
Both arrive live on PostgreSQL (the bus); on SQLite the notification is
in the user menu's list when it is opened."""
import json
from collections import defaultdict

from trytond import bus, config
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

ICONS = {
    'done': 'tryton-ok',
    'failed': 'tryton-warning',
    }


class Order(metaclass=PoolMeta):
    __name__ = 'telecom.order'

    @classmethod
    def notify_network_outcome(cls, orders):
        """A notification for the submitter of each order the network just
        completed or failed, created at once, in the submitter's language;
        one popup per submitter"""
        pool = Pool()
        Notification = pool.get('res.notification')
        User = pool.get('res.user')
        by_user = defaultdict(list)
        for order in orders:
            if order.state in ICONS and order.submitted_by:
                by_user[order.submitted_by.id].append(order.id)
        if not by_user:
            return []
        vlist, popups = [], []
        with without_check_access():
            for user in User.browse(sorted(by_user)):
                language = (user.language.code if user.language
                    else config.get('database', 'language'))
                with Transaction().set_context(language=language):
                    user_orders = cls.browse(by_user[user.id])
                    texts = cls._network_notifications(user_orders)
                    if len(user_orders) == 1:
                        popups.append((user.id, *texts[user_orders[0].id]))
                    else:
                        popups.append((user.id, gettext(
                                    'crm_provisioning.msg_network_answered',
                                    count=len(user_orders)),
                                '\n'.join(texts[o.id][0]
                                    for o in user_orders)))
                for order in user_orders:
                    label, description = texts[order.id]
                    vlist.append({
                            'user': user.id,
                            'icon': ICONS[order.state],
                            'label': label,
                            'description': description,
                            'model': cls.__name__,
                            'records': json.dumps([order.id]),
                            })
            notifications = Notification.create(vlist)
        for user_id, title, body in popups:
            bus.notify(title, body, user=user_id)
        return notifications

    @classmethod
    def _network_notifications(cls, orders):
        "{order id: (label, description)} of orders done or failed"
        texts = {}
        for order in orders:
            values = {
                'order': order.rec_name,
                'number': order.line_number or '',
                'type': order.type_string,
                'customer': order.customer.rec_name,
                }
            if order.state == 'done':
                texts[order.id] = (
                    gettext('crm_provisioning.msg_network_done_label',
                        **values),
                    gettext('crm_provisioning.msg_network_done_description',
                        time=order.format_time(order.done_at), **values))
            else:
                texts[order.id] = (
                    gettext('crm_provisioning.msg_network_failed_label',
                        reason=order.failure_reason or '-', **values),
                    gettext(
                        'crm_provisioning.msg_network_failed_description',
                        **values))
        return texts
