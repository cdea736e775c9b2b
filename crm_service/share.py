"""What a request for help shares with the company asked.

A company asked for help on a request sees the request and what it links
to: the customer, the line and its number, the account, the payment and its ledger
movements, the bill of the bill line and the order. Nothing else of the
other company: its other payments, movements and bills stay hidden (the
rules in share.xml), though crm_billing lets their account's staff see
them."""
from sql import Cast, Literal, Union
from sql.operators import Concat

from trytond.model import fields
from trytond.pool import Pool, PoolMeta


def _asked(company_ids):
    "Requests and the handlings that asked the companies for help"
    pool = Pool()
    request = pool.get('telecom.service_request').__table__()
    handling = pool.get('telecom.service_request.handling').__table__()
    join = request.join(handling,
        condition=(handling.request == request.id)
        & handling.company.in_(company_ids or [-1]))
    return request, join


class SharedMixin:
    __slots__ = ()
    service_shared_with = fields.Function(fields.Many2Many(
            'company.company', None, None, "Shared by Service Requests"),
        'get_service_shared_with', searcher='search_service_shared_with')

    @classmethod
    def get_service_shared_with(cls, records, name):
        return {r.id: [] for r in records}

    @classmethod
    def search_service_shared_with(cls, name, clause):
        _, operator, value = clause[:3]
        if operator != 'in':
            return [('id', '=', -1)]
        ids = [int(v) for v in value or []]
        return [('id', 'in', cls._service_shared_query(ids))]

    @classmethod
    def _service_shared_query(cls, company_ids):
        "Ids of the records requests asking these companies link to"
        raise NotImplementedError


def column_query(company_ids, column):
    request, join = _asked(company_ids)
    return join.select(getattr(request, column),
        where=getattr(request, column) != None)  # noqa: E711


class Subscriber(SharedMixin, metaclass=PoolMeta):
    __name__ = 'telecom.subscriber'

    @classmethod
    def _service_shared_query(cls, company_ids):
        bill_line = Pool().get('telecom.bill.line').__table__()
        request, join = _asked(company_ids)
        return Union(
            column_query(company_ids, 'subscriber'),
            join.join(bill_line,
                condition=bill_line.id == request.bill_line).select(
                bill_line.subscriber,
                where=bill_line.subscriber != None))  # noqa: E711


class Number(SharedMixin, metaclass=PoolMeta):
    __name__ = 'telecom.number'

    @classmethod
    def _service_shared_query(cls, company_ids):
        subscriber = Pool().get('telecom.subscriber').__table__()
        return subscriber.select(subscriber.number,
            where=subscriber.id.in_(
                Subscriber._service_shared_query(company_ids)))


class Order(SharedMixin, metaclass=PoolMeta):
    __name__ = 'telecom.order'

    @classmethod
    def _service_shared_query(cls, company_ids):
        return column_query(company_ids, 'order')


class Payment(SharedMixin, metaclass=PoolMeta):
    __name__ = 'telecom.payment'

    @classmethod
    def _service_shared_query(cls, company_ids):
        return column_query(company_ids, 'payment')


class Bill(SharedMixin, metaclass=PoolMeta):
    __name__ = 'telecom.bill'

    @classmethod
    def _service_shared_query(cls, company_ids):
        bill_line = Pool().get('telecom.bill.line').__table__()
        request, join = _asked(company_ids)
        return join.join(bill_line,
            condition=bill_line.id == request.bill_line).select(
            bill_line.bill)


class Account(SharedMixin, metaclass=PoolMeta):
    __name__ = 'telecom.account'

    @classmethod
    def _service_shared_query(cls, company_ids):
        pool = Pool()
        subscriber = pool.get('telecom.subscriber').__table__()
        payment = pool.get('telecom.payment').__table__()
        bill = pool.get('telecom.bill').__table__()
        bill_line = pool.get('telecom.bill.line').__table__()
        request, join = _asked(company_ids)
        return Union(
            join.join(subscriber,
                condition=subscriber.id == request.subscriber).select(
                subscriber.account),
            join.join(payment,
                condition=payment.id == request.payment).select(
                payment.account),
            join.join(bill_line,
                condition=bill_line.id == request.bill_line).join(bill,
                condition=bill.id == bill_line.bill).select(bill.account))


class Movement(SharedMixin, metaclass=PoolMeta):
    __name__ = 'telecom.account.movement'

    @classmethod
    def _service_shared_query(cls, company_ids):
        pool = Pool()
        payment = pool.get('telecom.payment').__table__()
        movement = cls.__table__()
        request, join = _asked(company_ids)
        # through the payment's account, whose movements are indexed
        return join.join(payment,
            condition=payment.id == request.payment).join(movement,
            condition=(movement.account == payment.account)
            & (movement.origin == Concat(Literal('telecom.payment,'),
                    Cast(payment.id, 'VARCHAR')))
            ).select(movement.id)
