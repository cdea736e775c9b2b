"""The suite's one way of writing money in messages, SMS and reports.

Amounts show two decimals (88.50, not 88.5); rates keep the extra digits
they have (0.025) but never drop below two (0.19, not 0.1900)."""
from decimal import Decimal

CENT = Decimal('0.01')
# the same rule for Excel cells (numbers stay numbers there)
XLSX_MONEY = '#,##0.00'
XLSX_RATE = '0.00##'


def format_money(value):
    "88.50, 7.03, 0.025; nothing is 0.00"
    if value is None:
        return '0.00'
    value = Decimal(str(value)).normalize()
    if value.as_tuple().exponent > -2:
        value = value.quantize(CENT)
    return '{:f}'.format(value)
