from trytond.i18n import gettext
from trytond.model import Index, fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval


class Order(metaclass=PoolMeta):
    __name__ = 'telecom.order'

    dunning = fields.Many2One('telecom.dunning', "Dunning", readonly=True,
        ondelete='SET NULL', states={'invisible': ~Eval('dunning')},
        help="The dunning whose suspension placed this order.")
    payment = fields.Many2One('telecom.payment', "Restored by Payment",
        readonly=True, ondelete='RESTRICT',
        states={'invisible': ~Eval('payment')},
        help="The payment whose posting cleared the debt and placed this "
        "order restoring the line.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.dunning, Index.Range()),
                    where=t.dunning != None),  # noqa: E711
                Index(t, (t.payment, Index.Range()),
                    where=t.payment != None),  # noqa: E711
                })

    @classmethod
    def copy(cls, orders, default=None):
        # a copy is placed by whoever copies it
        default = default.copy() if default is not None else {}
        default.setdefault('dunning', None)
        default.setdefault('payment', None)
        return super().copy(orders, default=default)

    def restoration_text(self, services, detail=True):
        """How far this order restoring a line has gone, with the names of
        the services it brings back (listed when detail)"""
        number = self.line_number or ''
        if self.state == 'failed':
            return gettext('crm_dunning.msg_restoration_failed',
                number=number, reason=self.failure_reason or '-')
        if self.state == 'done':
            name = 'msg_restoration_done'
        else:
            name = 'msg_restoration_pending'
        if services:
            name += '_services'
        text = gettext('crm_dunning.' + name, number=number,
            count=len(services))
        if services and detail:
            text = gettext('crm_dunning.msg_restoration_services', text=text,
                services='、'.join(services))
        return text
