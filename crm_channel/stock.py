"""Number stock of outlets: numbers allocated from the pool, and returned"""
import datetime as dt

from sql import Null

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import StockError
from .order import default_channel

# the states in which a number is still the outlet's stock
STOCK_STATES = ['available', 'reserved']


class Number(metaclass=PoolMeta):
    __name__ = 'telecom.number'

    outlet = fields.Many2One('telecom.channel', "Allocated To",
        readonly=True, ondelete='RESTRICT',
        domain=[('kind', '=', 'outlet')],
        help="The outlet the number is allocated to: only it can activate "
        "the number.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.outlet, Index.Range()),
                where=t.outlet != Null))

    @classmethod
    def release_cooled(cls):
        # a number back from cooling is the pool's again, not the outlet's
        # that sold it first
        table = cls.__table__()
        today = Pool().get('ir.date').today()
        Transaction().connection.cursor().execute(*table.update(
                [table.outlet], [Null],
                where=(table.state == 'cooling')
                & (table.cooling_until <= today)
                & (table.outlet != Null)))
        super().release_cooled()

    @classmethod
    def allocate(cls, numbers, outlet):
        "Allocate pool numbers to an outlet, in one statement, or raise"
        cls._check_movable(numbers, outlet=None)
        if outlet.kind != 'outlet' or outlet.state != 'active':
            raise StockError(gettext('crm_channel.msg_allocate_not_outlet',
                    channel=outlet.rec_name))
        foreign = [n for n in numbers if n.company != outlet.company]
        if foreign:
            raise StockError(gettext('crm_channel.msg_allocate_company',
                    number=foreign[0].number, outlet=outlet.rec_name))
        cls.write(numbers, {'outlet': outlet.id})
        Allocation = Pool().get('telecom.number.allocation')
        Allocation.log(numbers, outlet, 'allocate')

    @classmethod
    def return_to_pool(cls, numbers):
        "An outlet gives numbers it has not sold back to the pool"
        outlets = {n.outlet for n in numbers}
        for outlet in outlets:
            cls._check_movable(
                [n for n in numbers if n.outlet == outlet], outlet=outlet)
        Allocation = Pool().get('telecom.number.allocation')
        for outlet in outlets:
            Allocation.log(
                [n for n in numbers if n.outlet == outlet], outlet, 'return')
        cls.write(numbers, {'outlet': None})

    @classmethod
    def _check_movable(cls, numbers, outlet):
        for number in numbers:
            if number.state != 'available':
                raise StockError(gettext('crm_channel.msg_stock_state',
                        number=number.number, state=number.state_string))
            if number.outlet != outlet:
                if outlet is None:
                    raise StockError(gettext(
                            'crm_channel.msg_stock_allocated',
                            number=number.number,
                            outlet=number.outlet.rec_name))
                raise StockError(gettext('crm_channel.msg_stock_not_held',
                        number=number.number, outlet=outlet.rec_name))


class Allocation(ModelSQL, ModelView):
    "Number allocated to an outlet, or returned from it"
    __name__ = 'telecom.number.allocation'

    number = fields.Many2One('telecom.number', "Number", required=True,
        readonly=True, ondelete='CASCADE')
    outlet = fields.Many2One('telecom.channel', "Outlet", required=True,
        readonly=True, ondelete='CASCADE')
    dealer = fields.Function(fields.Many2One('commission.agent', "Dealer"),
        'get_dealer', searcher='search_dealer')
    kind = fields.Selection([
            ('allocate', "Allocated"),
            ('return', "Returned"),
            ], "Movement", required=True, readonly=True)
    date = fields.DateTime("Date", required=True, readonly=True)
    user = fields.Many2One('res.user', "By", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('outlet')
        cls._order.insert(0, ('date', 'DESC'))
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.outlet, Index.Range()),
                (t.date, Index.Range())))

    def get_dealer(self, name):
        return self.outlet.dealer.id if self.outlet.dealer else None

    @classmethod
    def search_dealer(cls, name, clause):
        return [('outlet.dealer',) + tuple(clause[1:])]

    @classmethod
    def log(cls, numbers, outlet, kind):
        now = dt.datetime.now()
        cls.create([{
                    'number': n.id,
                    'outlet': outlet.id,
                    'kind': kind,
                    'date': now,
                    'user': Transaction().user,
                    } for n in numbers])


class AllocateStart(ModelView):
    "Allocate numbers to an outlet"
    __name__ = 'telecom.number.allocate.start'

    outlet = fields.Many2One('telecom.channel', "Outlet", required=True,
        domain=[('kind', '=', 'outlet'), ('state', '=', 'active')])
    numbers = fields.Many2Many('telecom.number', None, None, "Numbers",
        domain=[('state', '=', 'available'), ('outlet', '=', None)],
        help="Available numbers of the pool, not yet allocated.")
    count = fields.Function(fields.Integer("Count"), 'on_change_with_count')

    @fields.depends('numbers')
    def on_change_with_count(self, name=None):
        return len(self.numbers or [])


class Allocate(Wizard):
    "Allocate numbers to an outlet"
    __name__ = 'telecom.number.allocate'

    start = StateView('telecom.number.allocate.start',
        'crm_channel.number_allocate_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Allocate", 'allocate', 'tryton-ok', default=True),
            ])
    allocate = StateTransition()

    def default_start(self, fields):
        values = {}
        if self.model and self.model.__name__ == 'telecom.number':
            values['numbers'] = [r.id for r in self.records
                if r.state == 'available' and not r.outlet]
        elif self.model and self.model.__name__ == 'telecom.channel':
            if self.record and self.record.kind == 'outlet':
                values['outlet'] = self.record.id
        return values

    def transition_allocate(self):
        Number = Pool().get('telecom.number')
        if not self.start.numbers:
            raise StockError(gettext('crm_channel.msg_allocate_no_numbers'))
        Number.allocate(list(self.start.numbers), self.start.outlet)
        return 'end'


class ReturnToPool(Wizard):
    "Return numbers to the pool"
    __name__ = 'telecom.number.return'

    start = StateTransition()

    def transition_start(self):
        Number = Pool().get('telecom.number')
        Number.return_to_pool([n for n in self.records if n.outlet])
        return 'end'


class OrderEntryNumber(metaclass=PoolMeta):
    __name__ = 'telecom.order.entry.number'

    def number_domain(self):
        # the pool's numbers, and those of the user's own outlet: a number
        # allocated to an outlet is activated only there
        return super().number_domain() + [
            ['OR',
                ('outlet', '=', None),
                ('outlet', '=', default_channel() or -1),
                ]]
