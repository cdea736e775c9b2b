import datetime as dt
import re

from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import Exclude, Index, ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval

from .company import company_currency, default_company
from .exceptions import NumberError
from .workflow import BulkWorkflow

MSISDN = re.compile(r'^1[3-9]\d{9}$')
NUMBER_STATES = [
    ('available', "Available"),
    ('reserved', "Reserved"),
    ('active', "Active"),
    ('cooling', "Cooling"),
    ]


def compact_msisdn(value):
    value = (value or '').strip().replace(' ', '').replace('-', '')
    if value.startswith('+86'):
        value = value[3:]
    return value


class Number(BulkWorkflow, ModelSQL, ModelView):
    """Mobile number (MSISDN) of the number pool.

    Its state moves only through transition_rows: concurrent orders claim
    numbers, and the conditional UPDATE decides which one gets it."""
    __name__ = 'telecom.number'
    _rec_name = 'number'

    number = fields.Char("Number", required=True, size=11,
        help="Eleven-digit mobile number, e.g. 13800138000.")
    grade = fields.Selection([
            ('ordinary', "Ordinary"),
            ('premium', "Premium"),
            ], "Grade", required=True)
    price = Monetary("Premium Number Fee", currency='currency',
        digits='currency',
        domain=['OR', ('price', '=', None), ('price', '>=', 0)],
        states={'invisible': Eval('grade') != 'premium'},
        help="What the customer pays once to take this premium number.")
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')
    state = fields.Selection(NUMBER_STATES, "State", required=True,
        readonly=True, sort=False)
    region = fields.Many2One('telecom.region', "Region", ondelete='RESTRICT')
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', states={'readonly': Eval('id', -1) >= 0})
    reserved_order = fields.Many2One('telecom.order', "Reserved By",
        readonly=True, ondelete='SET NULL')
    reserved_until = fields.DateTime("Reserved Until", readonly=True)
    cooling_until = fields.Date("Cooling Until", readonly=True)

    @classmethod
    def default_company(cls):
        return default_company()

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return company_currency(self.company)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('number_unique', Exclude(t, (t.number, Equal)),
                'crm_telecom.msg_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state.in_(['reserved', 'cooling'])),
                })
        cls._order = [('number', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('available', 'reserved'),
            ('reserved', 'available'),
            ('reserved', 'active'),
            ('active', 'cooling'),
            ('cooling', 'available'),
            }

    @classmethod
    def default_grade(cls):
        return 'ordinary'

    @classmethod
    def default_state(cls):
        return 'available'

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('number'):
            values['number'] = compact_msisdn(values['number'])
        return values

    @classmethod
    def validate_fields(cls, numbers, field_names):
        super().validate_fields(numbers, field_names)
        if field_names is None or 'number' in field_names:
            for number in numbers:
                if not MSISDN.match(number.number or ''):
                    raise NumberError(gettext(
                            'crm_telecom.msg_number_malformed',
                            number=number.number))

    @classmethod
    def reserve(cls, number, order, until):
        "Reserve one available number for a draft order, or raise"
        if not cls.transition_rows('reserved', [number.id],
                reserved_order=order.id, reserved_until=until):
            raise NumberError(gettext(
                    'crm_telecom.msg_number_not_available',
                    number=number.number,
                    state=cls(number.id).state_string))

    @classmethod
    def release(cls, numbers):
        "Give reserved numbers back to the pool"
        cls.transition_rows('available', [n.id for n in numbers],
            from_states=['reserved'],
            reserved_order=None, reserved_until=None)

    @classmethod
    def activate(cls, number, order):
        "Take a number reserved by the order into service, or raise"
        if not cls.transition_rows('active', [number.id],
                where=lambda table: table.reserved_order == order.id,
                reserved_order=None, reserved_until=None):
            raise NumberError(gettext(
                    'crm_telecom.msg_number_not_reserved',
                    number=number.number, order=order.rec_name))

    @classmethod
    def cool(cls, numbers, days):
        until = Pool().get('ir.date').today() + dt.timedelta(days=days)
        cls.transition_rows('cooling', [n.id for n in numbers],
            cooling_until=until)

    @classmethod
    def release_cooled(cls):
        "Cron: numbers whose cooling period is over go back to the pool"
        today = Pool().get('ir.date').today()
        cls.transition_rows('available', from_states=['cooling'],
            where=lambda table: table.cooling_until <= today,
            cooling_until=None)

    state_string = state.translated('state')
    grade_string = grade.translated('grade')

