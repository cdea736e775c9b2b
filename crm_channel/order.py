"""The channel and outlet of orders, lines, payments and service requests"""
from trytond.i18n import gettext
from trytond.model import Index, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import StockError


def default_channel():
    "The outlet of a dealer's user, when the dealer has one outlet"
    pool = Pool()
    user = pool.get('res.user')(Transaction().user)
    if user.dealer:
        outlets = [o for o in user.dealer.outlets if o.state == 'active']
        if len(outlets) == 1:
            return outlets[0].id


class Order(metaclass=PoolMeta):
    __name__ = 'telecom.order'

    channel = fields.Many2One('telecom.channel', "Channel",
        ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ['OR',
                ('state', '=', 'active'),
                ('id', '=', Eval('channel', -1)),
                ],
            ],
        states={'readonly': Eval('state') != 'draft'},
        help="Where the order was taken: a hall, the call centre, an "
        "outlet...")
    dealer = fields.Function(fields.Many2One('commission.agent', "Dealer"),
        'on_change_with_dealer', searcher='search_dealer')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.channel, Index.Range())))

    @classmethod
    def default_channel(cls):
        return default_channel()

    @fields.depends('channel')
    def on_change_with_dealer(self, name=None):
        if self.channel and self.channel.dealer:
            return self.channel.dealer.id

    @classmethod
    def search_dealer(cls, name, clause):
        return [('channel.dealer',) + tuple(clause[1:])]

    @classmethod
    def _validate(cls, orders, field_names=None):
        if field_names is None or {'number', 'channel'} & set(field_names):
            cls._check_outlet_stock(orders)
        super()._validate(orders, field_names=field_names)

    @classmethod
    def _check_outlet_stock(cls, orders):
        """An outlet activates only the numbers allocated to it, and a
        number allocated to an outlet is activated only there"""
        for order in orders:
            if (order.type != 'activate' or order.state != 'draft'
                    or not order.number):
                continue
            outlet = order.number.outlet
            channel = order.channel
            if channel and channel.kind == 'outlet' and outlet != channel:
                raise StockError(gettext(
                        'crm_channel.msg_number_not_allocated',
                        number=order.number.number,
                        outlet=channel.rec_name))
            if outlet and outlet != channel:
                raise StockError(gettext(
                        'crm_channel.msg_number_allocated_elsewhere',
                        number=order.number.number,
                        outlet=outlet.rec_name,
                        channel=channel.rec_name if channel else '-'))

    @classmethod
    def apply(cls, orders):
        super().apply(orders)
        # the line remembers where it was sold: commission and scorecards
        # read it without going through the orders
        Subscriber = Pool().get('telecom.subscriber')
        by_channel = {}
        for order in orders:
            if order.type == 'activate' and order.channel:
                by_channel.setdefault(order.channel, []).append(
                    order.subscriber)
        for channel, subscribers in by_channel.items():
            Subscriber.write(subscribers, {
                    'channel': channel.id,
                    'dealer': channel.dealer.id if channel.dealer else None,
                    })


class Subscriber(metaclass=PoolMeta):
    __name__ = 'telecom.subscriber'

    channel = fields.Many2One('telecom.channel', "Sold Through",
        readonly=True, ondelete='RESTRICT')
    dealer = fields.Many2One('commission.agent', "Dealer", readonly=True,
        ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.dealer, Index.Range()),
                (t.activation_date, Index.Range())))


class Payment(metaclass=PoolMeta):
    __name__ = 'telecom.payment'

    outlet = fields.Many2One('telecom.channel', "Taken At",
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={'readonly': Eval('state') != 'draft'},
        help="The hall, outlet, bank or other channel that took the "
        "payment; it sets the payment channel.")

    @classmethod
    def default_outlet(cls):
        return default_channel()

    @fields.depends('outlet')
    def on_change_outlet(self):
        if self.outlet:
            self.channel = self.outlet.payment_channel

    @classmethod
    def create(cls, vlist):
        Channel = Pool().get('telecom.channel')
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            if values.get('outlet'):
                values['channel'] = Channel(values['outlet']).payment_channel
        return super().create(vlist)


class ServiceRequest(metaclass=PoolMeta):
    __name__ = 'telecom.service_request'

    outlet = fields.Many2One('telecom.channel', "Received At",
        ondelete='RESTRICT',
        help="The hall, outlet or other channel that received the request.")

    @classmethod
    def default_outlet(cls):
        return default_channel()
