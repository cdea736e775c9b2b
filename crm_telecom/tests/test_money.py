"The one money formatter of messages, SMS and reports"
import unittest
from decimal import Decimal as D

from crm_telecom.money import format_money


class MoneyTestCase(unittest.TestCase):

    def test_two_decimals(self):
        for value, text in [
                (D('88.5'), '88.50'),
                (D('88.50'), '88.50'),
                (D('7.03'), '7.03'),
                (D('100'), '100.00'),
                (D('-25.03'), '-25.03'),
                (0, '0.00'),
                (None, '0.00'),
                (18.19, '18.19'),  # SQLite sums come back as floats
                ]:
            with self.subTest(value=value):
                self.assertEqual(format_money(value), text)

    def test_rates_keep_their_digits(self):
        for value, text in [
                (D('0.1900'), '0.19'),
                (D('0.0250'), '0.025'),
                (D('0.0001'), '0.0001'),
                ]:
            with self.subTest(value=value):
                self.assertEqual(format_money(value), text)


if __name__ == '__main__':
    unittest.main()
