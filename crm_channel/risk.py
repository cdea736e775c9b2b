"""Risk flags on dealers: a flagged dealer's commission is held"""
import datetime as dt

from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.company.model import employee_field, set_employee
from trytond.pool import PoolMeta
from trytond.pyson import Eval

RISK_KINDS = [
    ('identity', "Many Activations on One Identity"),
    ('no_usage', "High Share of Lines Without Usage"),
    ('out_of_region', "Activations Outside the Dealer's Region"),
    ('spike', "Sudden Volume Spike"),
    ]


class RiskFlag(Workflow, ModelSQL, ModelView):
    "Risk flag on a dealer: its commission is held until cleared"
    __name__ = 'telecom.dealer.risk_flag'

    dealer = fields.Many2One('commission.agent', "Dealer", required=True,
        readonly=True, ondelete='CASCADE')
    company = fields.Function(fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    kind = fields.Selection(RISK_KINDS, "Risk", required=True, readonly=True)
    date = fields.Date("Raised On", required=True, readonly=True)
    detail = fields.Text("Detail", readonly=True)
    value = fields.Numeric("Measured", digits=(16, 2), readonly=True,
        help="What was measured: activations, a share in %...")
    threshold = fields.Numeric("Threshold", digits=(16, 2), readonly=True)
    state = fields.Selection([
            ('open', "Open"),
            ('cleared', "Cleared"),
            ], "State", required=True, readonly=True, sort=False)
    note = fields.Text("Note", states={'readonly': Eval('state') != 'open'},
        help="Why the channel manager cleared the flag.")
    cleared_by = employee_field("Cleared By", states=['cleared'])
    cleared_at = fields.DateTime("Cleared At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('dealer')
        cls._order.insert(0, ('date', 'DESC'))
        t = cls.__table__()
        cls._sql_indexes.add(Index(t,
                (t.dealer, Index.Range()),
                (t.state, Index.Equality(cardinality='low'))))
        cls._transitions |= {('open', 'cleared')}
        cls._buttons.update({
                'clear': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @fields.depends('dealer', '_parent_dealer.company')
    def on_change_with_company(self, name=None):
        if self.dealer:
            return self.dealer.company.id

    @classmethod
    def search_company(cls, name, clause):
        return [('dealer.company',) + tuple(clause[1:])]

    @classmethod
    @ModelView.button
    @Workflow.transition('cleared')
    @set_employee('cleared_by')
    def clear(cls, flags):
        cls.write(flags, {'cleared_at': dt.datetime.now()})


class Agent(metaclass=PoolMeta):
    __name__ = 'commission.agent'

    risk_flags = fields.One2Many('telecom.dealer.risk_flag', 'dealer',
        "Risk Flags", readonly=True)
    commission_held = fields.Function(fields.Boolean("Commission Held",
            help="An open risk flag holds the dealer's commission."),
        'get_commission_held', searcher='search_commission_held')

    @classmethod
    def get_commission_held(cls, agents, name):
        Flag = cls.risk_flags.get_target()
        held = {f.dealer.id for f in Flag.search([
                    ('dealer', 'in', [a.id for a in agents]),
                    ('state', '=', 'open'),
                    ])}
        return {a.id: a.id in held for a in agents}

    @classmethod
    def search_commission_held(cls, name, clause):
        _, operator, value = clause
        held = (operator == '=') == bool(value)
        return [('risk_flags', 'where' if held else 'not where',
                [('state', '=', 'open')])]
