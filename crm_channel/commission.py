"""Dealer commissions: Tryton's commissions, told apart by kind

Each commission the monthly run builds names its kind, the line it was
earned (or taken back) on, the rule that paid it, its settlement period
and its dealer settlement; a clawback says why."""
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import Exclude, Index, fields
from trytond.pool import PoolMeta

from crm_telecom.sql_tools import UncheckedReferences

from .exceptions import CommissionError

COMMISSION_KINDS = [
    (None, ""),
    ('activation', "Activation"),
    ('revenue_share', "Revenue Share"),
    ('volume_tier', "Volume Tier"),
    ('vas_bonus', "Value-Added Service Bonus"),
    ('instalment', "Instalment"),
    ('clawback', "Clawback"),
    ]


class Commission(UncheckedReferences, metaclass=PoolMeta):
    __name__ = 'commission'
    # the monthly run writes every commission of a month at once
    _unchecked_references = {'agent', 'product', 'subscriber', 'rule',
        'bill', 'service', 'period', 'settlement'}

    kind = fields.Selection(COMMISSION_KINDS, "Kind", readonly=True,
        sort=False)
    kind_string = kind.translated('kind')
    subscriber = fields.Many2One('telecom.subscriber', "Line",
        readonly=True, ondelete='RESTRICT')
    rule = fields.Many2One('telecom.commission.rule', "Rule",
        readonly=True, ondelete='SET NULL')
    bill = fields.Many2One('telecom.bill', "Bill", readonly=True,
        ondelete='RESTRICT',
        help="The paid bill a revenue share was computed on.")
    service = fields.Many2One('telecom.subscriber.service', "Service",
        readonly=True, ondelete='RESTRICT',
        help="The value-added service a bonus was paid for.")
    instalment = fields.Integer("Instalment", readonly=True)
    period = fields.Many2One('telecom.commission.period', "Period",
        readonly=True, ondelete='RESTRICT')
    settlement = fields.Many2One('telecom.commission.settlement',
        "Settlement", readonly=True, ondelete='SET NULL')
    reason = fields.Char("Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # the dealers' commissions are paid in cents
        cls.amount.digits = (16, 2)
        t = cls.__table__()
        # a line's activation is paid once and taken back once
        cls._sql_constraints += [
            ('telecom_once', Exclude(t, (t.subscriber, Equal),
                    (t.kind, Equal),
                    where=t.kind.in_(['activation', 'clawback'])),
                'crm_channel.msg_commission_once'),
            ]
        # the period and the settlement are indexed for their One2Many
        cls._sql_indexes.update({
                Index(t, (t.subscriber, Index.Range()),
                    (t.kind, Index.Equality(cardinality='low'))),
                Index(t, (t.bill, Index.Range()),
                    where=t.bill != None),  # noqa: E711
                # a service's bonus is paid once: the run looks it up
                Index(t, (t.service, Index.Range()),
                    where=t.service != None),  # noqa: E711
                })

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['telecom.subscriber']

    @classmethod
    def check_modification(cls, mode, commissions, values=None,
            external=False):
        super().check_modification(mode, commissions, values=values,
            external=external)
        if mode == 'create':
            return
        # a confirmed settlement is frozen; invoicing it links its lines
        if mode == 'write' and not (set(values) - {'invoice_line'}):
            return
        for commission in commissions:
            settlement = commission.settlement
            if settlement and settlement.state != 'draft':
                raise CommissionError(gettext(
                        'crm_channel.msg_commission_frozen',
                        settlement=settlement.rec_name))
