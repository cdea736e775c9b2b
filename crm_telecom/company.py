"""Headquarters and the province companies under it.

Customers, accounts, lines, numbers and orders belong to a company; record
rules show staff the companies they work for (Tryton's `companies` rule
context, set by the companies on their user), so a province company sees
its province and headquarters, whose staff have every company, sees all."""
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


def default_company():
    """The company of the context; for scripts and server code called
    without one, the user's company"""
    transaction = Transaction()
    company = transaction.context.get('company')
    if company is None:
        user = Pool().get('res.user')(transaction.user)
        if user.company:
            company = user.company.id
    return company


def company_currency(company):
    "The currency a company keeps its amounts in"
    if company and company.currency:
        return company.currency.id


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'

    parent = fields.Many2One('company.company', "Headquarters",
        ondelete='RESTRICT',
        help="The company this province company reports to.")
    children = fields.One2Many('company.company', 'parent',
        "Province Companies", readonly=True)
