"""Channels: where orders, payments and service requests come from"""
from sql.operators import Equal

from trytond.model import Exclude, ModelSQL, ModelView, Workflow, fields
from trytond.pyson import Eval

from crm_telecom.company import default_company

CHANNEL_KINDS = [
    ('business_hall', "Own Business Hall"),
    ('call_centre', "Call Centre"),
    ('online', "Online Hall"),
    ('sms_hall', "SMS Hall"),
    ('app', "Mobile App"),
    ('outlet', "Dealer Outlet"),
    ('bank', "Bank"),
    ('post_office', "Post Office"),
    ]
# the payment channel each channel kind records its payments under
PAYMENT_CHANNELS = {
    'business_hall': 'business_hall',
    'call_centre': 'call_centre',
    'online': 'online',
    'sms_hall': 'sms_hall',
    'app': 'app',
    'outlet': 'agent',
    'bank': 'bank',
    'post_office': 'post_office',
    }


class Channel(Workflow, ModelSQL, ModelView):
    "Sales and service channel: a hall, the call centre, an outlet..."
    __name__ = 'telecom.channel'

    name = fields.Char("Name", required=True)
    code = fields.Char("Code", required=True,
        help="The channel's code, unique in its company, e.g. GZ-TH-001.")
    kind = fields.Selection(CHANNEL_KINDS, "Kind", required=True, sort=False)
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT')
    region = fields.Many2One('telecom.region', "Region", ondelete='RESTRICT',
        help="Where the channel serves; outlets activating lines of "
        "another region are flagged.")
    address = fields.Char("Address")
    manager = fields.Many2One('company.employee', "Channel Manager",
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))])
    dealer = fields.Many2One('commission.agent', "Dealer",
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'required': Eval('kind') == 'outlet',
            'invisible': Eval('kind') != 'outlet',
            })
    state = fields.Selection([
            ('active', "Active"),
            ('closed', "Closed"),
            ], "State", required=True, readonly=True, sort=False)
    numbers = fields.One2Many('telecom.number', 'outlet', "Numbers Held",
        readonly=True, states={'invisible': Eval('kind') != 'outlet'})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Exclude(t, (t.company, Equal), (t.code, Equal)),
                'crm_channel.msg_channel_code_unique'),
            ]
        cls._order.insert(0, ('code', 'ASC'))
        cls._transitions |= {('active', 'closed'), ('closed', 'active')}
        cls._buttons.update({
                'close': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') != 'closed',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return default_company()

    @classmethod
    def default_state(cls):
        return 'active'

    @classmethod
    def default_kind(cls):
        return 'outlet'

    def get_rec_name(self, name):
        return '%s %s' % (self.code, self.name)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('code', operator, operand, *extra),
            ]

    @property
    def payment_channel(self):
        return PAYMENT_CHANNELS[self.kind]

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, channels):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def reopen(cls, channels):
        pass
