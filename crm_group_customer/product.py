"""Group products (集团V网, 企信通, dedicated lines, group ring-back tones):
product templates of telecom type "group", subscribed by a group for some
or all of its members"""
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from crm_telecom.company import company_currency, default_company

GROUP_PRODUCT_KINDS = [
    (None, ""),
    ('cug_voice', "Closed User Group Voice"),
    ('enterprise_sms', "Enterprise SMS"),
    ('dedicated_line', "Dedicated Line"),
    ('ring_back', "Group Ring-Back Tone"),
    ('other', "Other"),
    ]


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    group_product_kind = fields.Selection(GROUP_PRODUCT_KINDS,
        "Group Product Kind", sort=False,
        states={
            'invisible': Eval('telecom_type') != 'group',
            'required': Eval('telecom_type') == 'group',
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        selection = ('group', "Group Product")
        if selection not in cls.telecom_type.selection:
            cls.telecom_type.selection.append(selection)


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # a variant copies its template's telecom types when it is set up,
        # which may be before the template above adds the group type
        selection = ('group', "Group Product")
        if selection not in cls.telecom_type.selection:
            cls.telecom_type.selection.append(selection)


class GroupProduct(Workflow, ModelSQL, ModelView):
    "A group product a group subscribes, with its fee and the members it covers"
    __name__ = 'telecom.group.product'

    group = fields.Many2One('party.party', "Group", required=True,
        ondelete='CASCADE', domain=[('group_customer', '=', True)],
        states={'readonly': Eval('state') != 'draft'})
    product = fields.Many2One('product.template', "Product", required=True,
        ondelete='RESTRICT', domain=[('telecom_type', '=', 'group')],
        states={'readonly': Eval('state') != 'draft'})
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', states={'readonly': True})
    quantity = fields.Integer("Quantity", required=True,
        domain=[('quantity', '>', 0)],
        states={'readonly': Eval('state') != 'draft'},
        help="Units subscribed (lines of a dedicated link, SMS packs).")
    monthly_fee = Monetary("Monthly Fee", currency='currency',
        digits='currency', required=True,
        domain=[('monthly_fee', '>=', 0)],
        states={'readonly': Eval('state') != 'draft'},
        help="The fee per unit and month, billed on the group's account.")
    start_date = fields.Date("From", required=True,
        states={'readonly': Eval('state') != 'draft'})
    end_date = fields.Date("Until",
        domain=['OR', ('end_date', '=', None),
            ('end_date', '>', Eval('start_date', None))],
        states={'readonly': Eval('state') == 'ended'})
    members = fields.Many2Many('telecom.group.product-telecom.group.member',
        'group_product', 'member', "Members Covered",
        domain=[('group', '=', Eval('group', -1))],
        help="The members the product covers; none: the whole group.")
    state = fields.Selection([
            ('draft', "Draft"),
            ('active', "Active"),
            ('ended', "Ended"),
            ], "State", readonly=True, required=True)
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('group', 'ASC'), ('start_date', 'DESC'),
            ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'active'),
            ('active', 'ended'),
            }
        cls._buttons.update({
                'activate': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'end': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return default_company()

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_quantity(cls):
        return 1

    @classmethod
    def default_start_date(cls):
        return Pool().get('ir.date').today()

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return company_currency(self.company)

    @fields.depends('product', 'monthly_fee')
    def on_change_product(self):
        if self.product and self.monthly_fee is None:
            self.monthly_fee = self.product.monthly_fee

    def get_rec_name(self, name):
        return '%s: %s' % (self.group.rec_name, self.product.rec_name)

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def activate(cls, products):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('ended')
    def end(cls, products):
        "The product ends today, unless an end day was set"
        today = Pool().get('ir.date').today()
        for product in products:
            if not product.end_date or product.end_date > today:
                product.end_date = today
        cls.save(products)


class GroupProductMember(ModelSQL):
    __name__ = 'telecom.group.product-telecom.group.member'

    group_product = fields.Many2One('telecom.group.product',
        "Group Product", required=True, ondelete='CASCADE')
    member = fields.Many2One('telecom.group.member', "Member",
        required=True, ondelete='CASCADE')
