from trytond.model import Index, fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval


class Order(metaclass=PoolMeta):
    __name__ = 'telecom.order'

    dunning = fields.Many2One('telecom.dunning', "Dunning", readonly=True,
        ondelete='SET NULL', states={'invisible': ~Eval('dunning')},
        help="The dunning whose suspension placed this order.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.dunning, Index.Range()),
                where=t.dunning != None))  # noqa: E711

    @classmethod
    def copy(cls, orders, default=None):
        # a copy is placed by whoever copies it
        default = default.copy() if default is not None else {}
        default.setdefault('dunning', None)
        return super().copy(orders, default=default)
