import datetime as dt
import re

from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import Exclude, Index, ModelSQL, ModelView, fields
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .company import default_company
from .exceptions import NumberError
from .sql_tools import clear_cache

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


class Number(ModelSQL, ModelView):
    "Mobile number (MSISDN) of the number pool"
    __name__ = 'telecom.number'
    _rec_name = 'number'

    number = fields.Char("Number", required=True, size=11,
        help="Eleven-digit mobile number, e.g. 13800138000.")
    grade = fields.Selection([
            ('ordinary', "Ordinary"),
            ('premium', "Premium"),
            ], "Grade", required=True)
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
    def _set_state(cls, ids, new_state, from_states, where=None, **values):
        """Move numbers between states with one conditional UPDATE.

        The WHERE clause on the current state is the lock: of two
        transactions claiming the same number, the second one matches no row
        (or fails to serialize) and so never takes it."""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [table.state, table.write_date, table.write_uid]
        params = [new_state, dt.datetime.now(),
            Transaction().user]
        for name, value in values.items():
            columns.append(getattr(table, name))
            params.append(value)
        condition = table.state.in_(from_states)
        if where is not None:
            condition &= where(table)
        count = 0
        for sub_ids in grouped_slice(ids, 1000):
            cursor.execute(*table.update(columns, params,
                    where=SQL_OPERATORS['in'](table.id, list(sub_ids))
                    & condition))
            count += cursor.rowcount
        cls._clear_cache_for(ids)
        return count

    @classmethod
    def _clear_cache_for(cls, ids):
        clear_cache(cls, ids)

    @classmethod
    def reserve(cls, number, order, until):
        "Reserve one available number for a draft order, or raise"
        if not cls._set_state([number.id], 'reserved', ['available'],
                reserved_order=order.id, reserved_until=until):
            raise NumberError(gettext(
                    'crm_telecom.msg_number_not_available',
                    number=number.number,
                    state=cls(number.id).state_string))

    @classmethod
    def release(cls, numbers):
        "Give reserved numbers back to the pool"
        cls._set_state([n.id for n in numbers], 'available', ['reserved'],
            reserved_order=None, reserved_until=None)

    @classmethod
    def activate(cls, number, order):
        "Take a number reserved by the order into service, or raise"
        if not cls._set_state([number.id], 'active', ['reserved'],
                where=lambda table: table.reserved_order == order.id,
                reserved_order=None, reserved_until=None):
            raise NumberError(gettext(
                    'crm_telecom.msg_number_not_reserved',
                    number=number.number, order=order.rec_name))

    @classmethod
    def cool(cls, numbers, days):
        until = Pool().get('ir.date').today() + dt.timedelta(days=days)
        cls._set_state([n.id for n in numbers], 'cooling', ['active'],
            cooling_until=until)

    @classmethod
    def release_cooled(cls):
        "Cron: numbers whose cooling period is over go back to the pool"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        today = Pool().get('ir.date').today()
        cursor.execute(*table.update(
                [table.state, table.cooling_until], ['available', None],
                where=(table.state == 'cooling')
                & (table.cooling_until <= today)))

    state_string = state.translated('state')
    grade_string = grade.translated('grade')

