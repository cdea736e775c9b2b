from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval

from .company import default_company
from .exceptions import RealNameError

TELECOM_TYPES = [
    (None, ""),
    ('plan', "Tariff Plan"),
    ('addon', "Add-on"),
    ('vas', "Value-Added Service"),
    ]


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    telecom_type = fields.Selection(TELECOM_TYPES, "Telecom Type",
        sort=False)
    telecom_currency = fields.Many2One('currency.currency',
        "Tariff Currency", ondelete='RESTRICT',
        states={
            'invisible': ~Eval('telecom_type'),
            'required': Bool(Eval('telecom_type')),
            },
        help="The currency of the fees and rates.")
    monthly_fee = Monetary("Monthly Fee", currency='telecom_currency',
        digits='telecom_currency',
        states={'invisible': ~Eval('telecom_type')},
        domain=['OR', ('monthly_fee', '=', None), ('monthly_fee', '>=', 0)])
    voice_minutes = fields.Integer("Included Minutes",
        states={'invisible': ~Eval('telecom_type').in_(['plan', 'addon'])})
    sms_count = fields.Integer("Included SMS",
        states={'invisible': ~Eval('telecom_type').in_(['plan', 'addon'])})
    data_mb = fields.Integer("Included Data (MB)",
        states={'invisible': ~Eval('telecom_type').in_(['plan', 'addon'])})
    voice_rate = Monetary("Voice Overage (per minute)",
        currency='telecom_currency', digits=(16, 4),
        states={'invisible': Eval('telecom_type') != 'plan'})
    sms_rate = Monetary("SMS Overage (per message)",
        currency='telecom_currency', digits=(16, 4),
        states={'invisible': Eval('telecom_type') != 'plan'})
    data_rate = Monetary("Data Overage (per MB)",
        currency='telecom_currency', digits=(16, 4),
        states={'invisible': Eval('telecom_type') != 'plan'})
    roaming_voice_rate = Monetary("Roaming Voice (per minute)",
        currency='telecom_currency', digits=(16, 4),
        states={'invisible': Eval('telecom_type') != 'plan'},
        help="International roaming never draws on the allowances.")
    roaming_sms_rate = Monetary("Roaming SMS (per message)",
        currency='telecom_currency', digits=(16, 4),
        states={'invisible': Eval('telecom_type') != 'plan'})
    roaming_data_rate = Monetary("Roaming Data (per MB)",
        currency='telecom_currency', digits=(16, 4),
        states={'invisible': Eval('telecom_type') != 'plan'})
    telecom_brand = fields.Many2One('telecom.brand', "Brand",
        ondelete='RESTRICT',
        states={'invisible': ~Eval('telecom_type')},
        help="Leave empty when every brand may take it.")
    commitment_months = fields.Integer("Commitment (months)",
        states={'invisible': ~Eval('telecom_type')})
    min_age = fields.Integer("Minimum Age",
        states={'invisible': ~Eval('telecom_type')})
    max_age = fields.Integer("Maximum Age",
        states={'invisible': ~Eval('telecom_type')})
    plan_change_effective = fields.Selection([
            ('next_cycle', "At Next Bill Cycle"),
            ('immediate', "Immediately"),
            ], "Plan Change Takes Effect",
        states={
            'invisible': Eval('telecom_type') != 'plan',
            'required': Eval('telecom_type') == 'plan',
            })

    @classmethod
    def default_telecom_currency(cls):
        "The currency of the company the tariff is set up in"
        company = default_company()
        if company is not None:
            return Pool().get('company.company')(company).currency.id

    @classmethod
    def default_plan_change_effective(cls):
        return 'next_cycle'

    @classmethod
    def default_commitment_months(cls):
        return 0

    @classmethod
    def offered(cls, types, brand, age=None, domain=None, order=None):
        """The tariffs of types a line of brand, held by someone of age, may
        take (check_eligibility is the rule), cheapest first"""
        if not brand:
            return []
        tariffs = cls.search([
                ('telecom_type', 'in', types),
                ('telecom_brand', 'in', [brand.id, None]),
                *(domain or []),
                ], order=order or [('monthly_fee', 'ASC'), ('name', 'ASC')])
        result = []
        for tariff in tariffs:
            try:
                tariff.check_eligibility(brand=brand, age=age)
            except RealNameError:
                continue
            result.append(tariff)
        return result

    def check_eligibility(self, brand=None, age=None):
        "Raise when a line of the brand, held by someone of age, may not take it"
        if self.telecom_brand and brand and self.telecom_brand != brand:
            raise RealNameError(gettext(
                    'crm_telecom.msg_product_brand_ineligible',
                    product=self.rec_name, brand=brand.rec_name,
                    required=self.telecom_brand.rec_name))
        if age is not None:
            if ((self.min_age and age < self.min_age)
                    or (self.max_age and age > self.max_age)):
                raise RealNameError(gettext(
                        'crm_telecom.msg_product_age_ineligible',
                        product=self.rec_name, age=age,
                        min_age=self.min_age or 0,
                        max_age=self.max_age or '∞'))
