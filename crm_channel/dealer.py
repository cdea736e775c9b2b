"""Dealers: commission agents who sell and serve through their outlets"""
from trytond.model import ModelView, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If

STAR_RATINGS = [
    (None, ""),
    ('1', "★"),
    ('2', "★★"),
    ('3', "★★★"),
    ('4', "★★★★"),
    ('5', "★★★★★"),
    ]


class Agent(Workflow, metaclass=PoolMeta):
    __name__ = 'commission.agent'
    _transition_state = 'dealer_state'

    dealer_code = fields.Char("Dealer Code",
        help="The operator's code of the dealer, e.g. GD-DL-0001.")
    region = fields.Many2One('telecom.region', "Region", ondelete='RESTRICT',
        help="Where the dealer may sell; activations elsewhere are flagged.")
    contract_number = fields.Char("Contract Number")
    contract_start = fields.Date("Contract From")
    contract_end = fields.Date("Contract Until",
        domain=[If(Bool(Eval('contract_start')) & Bool(Eval('contract_end')),
                ('contract_end', '>=', Eval('contract_start')),
                ())])
    deposit = Monetary("Deposit", currency='currency', digits='currency',
        domain=['OR', ('deposit', '=', None), ('deposit', '>=', 0)],
        help="The guarantee deposit the dealer paid.")
    bank_name = fields.Char("Bank")
    bank_account = fields.Char("Bank Account",
        help="The account commissions are paid to.")
    outlets = fields.One2Many('telecom.channel', 'dealer', "Outlets",
        domain=[('kind', '=', 'outlet')])
    star_rating = fields.Selection(STAR_RATINGS, "Star Rating", sort=False,
        help="Set from the monthly scorecard by the star rating rules.")
    lines = fields.One2Many('telecom.subscriber', 'dealer', "Lines Sold",
        readonly=True)
    users = fields.One2Many('res.user', 'dealer', "Users",
        help="The users who act for the dealer: they see only its outlets, "
        "sales, customers and commissions.")
    dealer_state = fields.Selection([
            ('active', "Active"),
            ('suspended', "Suspended"),
            ('terminated', "Terminated"),
            ], "Dealer State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._transitions |= {
            ('active', 'suspended'),
            ('suspended', 'active'),
            ('active', 'terminated'),
            ('suspended', 'terminated'),
            }
        cls._buttons.update({
                'suspend': {
                    'invisible': Eval('dealer_state') != 'active',
                    'depends': ['dealer_state'],
                    },
                'reinstate': {
                    'invisible': Eval('dealer_state') != 'suspended',
                    'depends': ['dealer_state'],
                    },
                'terminate': {
                    'invisible': Eval('dealer_state') == 'terminated',
                    'depends': ['dealer_state'],
                    },
                })

    def get_rec_name(self, name):
        # a dealer is one agent of its party: its name, not its plan's
        if self.dealer_code:
            return self.party.rec_name
        return super().get_rec_name(name)

    @classmethod
    def search_rec_name(cls, name, clause):
        # [operator, party, plan] and the dealer code
        return super().search_rec_name(name, clause) + [
            ('dealer_code',) + tuple(clause[1:])]

    @classmethod
    def default_dealer_state(cls):
        return 'active'

    @classmethod
    @ModelView.button
    @Workflow.transition('suspended')
    def suspend(cls, agents):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def reinstate(cls, agents):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('terminated')
    def terminate(cls, agents):
        # a terminated dealer is no longer offered and its outlets close
        cls.write(agents, {'active': False})
        Channel = Pool().get('telecom.channel')
        Channel.close([o for a in agents for o in a.outlets
                if o.state == 'active'])


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    dealer = fields.Many2One('commission.agent', "Dealer",
        ondelete='RESTRICT',
        help="The dealer this user acts for: they see only its records.")
