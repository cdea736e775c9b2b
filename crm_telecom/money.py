"""The suite's one way of writing money in messages, SMS and reports, and
of sharing a monthly fee out over the days of a month.

Amounts show two decimals (88.50, not 88.5); rates keep the extra digits
they have (0.025) but never drop below two (0.19, not 0.1900)."""
import calendar
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


def prorate(amount, days, cycle_days):
    "Share of a monthly amount for days of a cycle (bills and order entry)"
    if days >= cycle_days:
        return amount
    return amount * days / cycle_days


def month_proration(date):
    """(days left in the month of date, date included; days in the month):
    the share of the month a line activated on date is charged"""
    days = calendar.monthrange(date.year, date.month)[1]
    return days - date.day + 1, days
