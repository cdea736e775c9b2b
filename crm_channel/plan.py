"""Commission plans of dealers: the telecom rules a plan pays by

A plan (Tryton's commission.plan) gets rules of five kinds: a one-off
amount per activation, a share of the line's paid bills for some months,
a bonus per activation once the month's activations reach a tier, a bonus
per value-added service sold and instalments paid while the line stays
active. A rule naming a product (the line's plan or the service) wins over
the plan's rule of the same kind without one."""
from trytond.model import ModelSQL, ModelView, fields, sequence_ordered
from trytond.pool import PoolMeta
from trytond.pyson import Eval, If, In

RULE_KINDS = [
    ('one_off', "One-Off per Activation"),
    ('revenue_share', "Revenue Share"),
    ('volume_tier', "Volume Tier"),
    ('vas_bonus', "Value-Added Service Bonus"),
    ('instalment', "Instalment"),
    ]


class Plan(metaclass=PoolMeta):
    __name__ = 'commission.plan'

    telecom_rules = fields.One2Many('telecom.commission.rule', 'plan',
        "Dealer Rules",
        help="What the plan pays dealers for the lines they sell.")
    clawback_days = fields.Integer("Clawback Days",
        domain=['OR', ('clawback_days', '=', None),
            ('clawback_days', '>=', 0)],
        help="The activation commission of a line terminated, suspended "
        "for arrears or found fraudulent within so many days of its "
        "activation is taken back. Empty: never.")


class Rule(sequence_ordered(), ModelSQL, ModelView):
    "Dealer commission rule of a plan"
    __name__ = 'telecom.commission.rule'

    plan = fields.Many2One('commission.plan', "Plan", required=True,
        ondelete='CASCADE')
    kind = fields.Selection(RULE_KINDS, "Kind", required=True, sort=False)
    product = fields.Many2One('product.template', "Product",
        ondelete='RESTRICT',
        domain=[If(Eval('kind') == 'vas_bonus',
                ('telecom_type', 'in', ['vas', 'addon']),
                ('telecom_type', '=', 'plan'))],
        help="The line's plan (or, for a service bonus, the service) the "
        "rule applies to; empty: any, unless another rule names it.")
    amount = fields.Numeric("Amount", digits=(16, 2),
        states={
            'required': In(Eval('kind'),
                ['one_off', 'volume_tier', 'vas_bonus', 'instalment']),
            'invisible': Eval('kind') == 'revenue_share',
            },
        domain=['OR', ('amount', '=', None), ('amount', '>', 0)],
        help="Paid per activation, per service or per instalment; for a "
        "tier, per activation of the month once the tier is reached.")
    rate = fields.Numeric("Rate (%)", digits=(16, 2),
        states={
            'required': Eval('kind') == 'revenue_share',
            'invisible': Eval('kind') != 'revenue_share',
            },
        domain=['OR', ('rate', '=', None),
            [('rate', '>', 0), ('rate', '<=', 100)]],
        help="The share of the line's paid bills.")
    months = fields.Integer("Months",
        states={
            'required': In(Eval('kind'), ['revenue_share', 'instalment']),
            'invisible': ~In(Eval('kind'), ['revenue_share', 'instalment']),
            },
        domain=['OR', ('months', '=', None), ('months', '>', 0)],
        help="Revenue share: the bills of so many months from the "
        "activation month. Instalments: how many are paid, one per "
        "settlement period while the line is active.")
    min_activations = fields.Integer("Minimum Activations",
        states={
            'required': Eval('kind') == 'volume_tier',
            'invisible': Eval('kind') != 'volume_tier',
            },
        domain=['OR', ('min_activations', '=', None),
            ('min_activations', '>', 0)],
        help="The tier is reached when the dealer's activations of the "
        "period reach this number; the highest tier reached pays.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('plan')

    @classmethod
    def default_kind(cls):
        return 'one_off'

    def get_rec_name(self, name):
        kinds = dict(self.fields_get(['kind'])['kind']['selection'])
        name = kinds.get(self.kind, self.kind)
        if self.product:
            name += ' - ' + self.product.rec_name
        return name
