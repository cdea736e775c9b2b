from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pyson import Eval


class Adjustment(Workflow, ModelSQL, ModelView):
    "Credit or debit on an account, billed on its next bill"
    __name__ = 'telecom.bill.adjustment'

    account = fields.Many2One('telecom.account', "Account", required=True,
        ondelete='RESTRICT', states={'readonly': Eval('state') != 'draft'})
    subscriber = fields.Many2One('telecom.subscriber', "Line",
        ondelete='RESTRICT', states={'readonly': Eval('state') != 'draft'},
        domain=[('account', '=', Eval('account', -1))])
    amount = fields.Numeric("Amount", digits=(16, 2), required=True,
        states={'readonly': Eval('state') != 'draft'},
        help="Positive: an extra charge. Negative: a credit.")
    reason = fields.Text("Reason", required=True,
        states={'readonly': Eval('state') != 'draft'})
    state = fields.Selection([
            ('draft', "Draft"),
            ('waiting', "Waiting for Approval"),
            ('approved', "Approved"),
            ('refused', "Refused"),
            ], "State", required=True, readonly=True, sort=False)
    requested_by = fields.Many2One('res.user', "Requested By", readonly=True)
    approved_by = fields.Many2One('res.user', "Approved By", readonly=True)
    approved_at = fields.DateTime("Approved At", readonly=True)
    bill = fields.Many2One('telecom.bill', "Billed On", readonly=True,
        ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.account, Index.Range()),
                where=t.bill == None))  # noqa: E711
        cls._order = [('id', 'DESC')]

    @classmethod
    def default_state(cls):
        return 'draft'
