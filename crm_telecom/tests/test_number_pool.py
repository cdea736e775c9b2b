"The number pool moves only through its transitions, saying who moved it"
import datetime as dt
import unittest

from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.tools import (
    activation,
    create_customer,
    setup_company,
    setup_reference,
)


class NumberPoolTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    def numbers(self, *values):
        "Numbers in the given (number, state, cooling until) rows"
        Number = Pool().get('telecom.number')
        setup_company()
        return Number.create([{'number': n, 'state': s, 'cooling_until': c}
                for n, s, c in values])

    def logs(self, number):
        Log = Pool().get('ir.model.log')
        return [(l.target, l.user.id) for l in Log.search([
                    ('resource', '=', str(number)),
                    ('event', '=', 'transition'),
                    ], order=[('id', 'ASC')])]

    @with_transaction()
    def test_reserve_activate_cool_release(self):
        "Each step checks the state it starts from and records who"
        pool = Pool()
        Number = pool.get('telecom.number')
        Order = pool.get('telecom.order')
        User = pool.get('res.user')
        clerk, = User.create([{'login': 'clerk_pool'}])
        regions, brands, products = setup_reference()
        number, = self.numbers(('13800138000', 'available', None))
        with Transaction().set_user(clerk.id):
            order = activation(create_customer(), number, brands['SZX'],
                products["神州行 18元畅聊卡"])
        number = Number(number.id)
        self.assertEqual((number.state, number.reserved_order),
            ('reserved', order))
        self.assertEqual(number.write_uid, clerk)
        self.assertIsNotNone(number.write_date)

        # the reserved number cannot be reserved again, nor go to cooling
        with self.assertRaises(UserError) as cm:
            Number.reserve(number, order, None)
        self.assertIn('13800138000', cm.exception.message)
        self.assertEqual(Number.transition_rows('cooling', [number.id]), [])

        Order.process([order])
        self.assertEqual(Number(number.id).state, 'active')
        Number.cool([number], 30)
        number = Number(number.id)
        self.assertEqual(number.state, 'cooling')
        user = Transaction().user
        self.assertEqual(self.logs(number), [('state:reserved', clerk.id),
                ('state:active', user), ('state:cooling', user)])

    @with_transaction()
    def test_release_only_what_it_may(self):
        "release gives back reserved numbers only, release_cooled expired ones"
        pool = Pool()
        Number = pool.get('telecom.number')
        User = pool.get('res.user')
        today = pool.get('ir.date').today()
        cooling, expired, reserved = self.numbers(
            ('13800138001', 'cooling', today + dt.timedelta(days=5)),
            ('13800138002', 'cooling', today),
            ('13800138003', 'reserved', None))

        Number.release([cooling, reserved])
        self.assertEqual([Number(n.id).state for n in (cooling, reserved)],
            ['cooling', 'available'])

        robot, = User.create([{'login': 'cron_pool'}])
        with Transaction().set_user(robot.id):
            Number.release_cooled()
        cooling, expired = Number.browse([cooling, expired])
        self.assertEqual((cooling.state, expired.state),
            ('cooling', 'available'))
        self.assertIsNone(expired.cooling_until)
        self.assertEqual(expired.write_uid, robot)
        self.assertIsNone(cooling.write_uid)
        self.assertEqual(self.logs(expired), [('state:available', robot.id)])


if __name__ == '__main__':
    unittest.main()
