from trytond.model import ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pyson import Eval


class BillRun(Workflow, ModelSQL, ModelView):
    "Bill run: every account whose cycle starts on a date"
    __name__ = 'telecom.bill.run'

    period_start = fields.Date("Cycle Start", required=True,
        states={'readonly': Eval('state') != 'draft'},
        help="Accounts whose bill cycle day is this day are billed for "
        "the month that starts here.")
    period_end = fields.Date("Cycle End", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('running', "Running"),
            ('done', "Done"),
            ], "State", required=True, readonly=True, sort=False)
    accounts_total = fields.Integer("Accounts", readonly=True)
    accounts_done = fields.Integer("Accounts Billed", readonly=True)
    bills = fields.One2Many('telecom.bill', 'run', "Bills", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('period_start_unique', Unique(t, t.period_start),
                'crm_telecom.msg_bill_run_unique'),
            ]
        cls._order = [('period_start', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_state(cls):
        return 'draft'

    def get_rec_name(self, name):
        return '%s ~ %s' % (self.period_start, self.period_end or '')

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('period_start', ) + tuple(clause[1:])]
