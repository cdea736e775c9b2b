"Money kept per company: records that belong to a billing account"
from trytond.model import fields

from crm_telecom.company import company_currency


class AccountMoneyMixin:
    """The company and currency of a record's billing account.

    Its amounts are Monetary in that currency; record rules and access
    follow the account (__access__), so a province company sees the bills,
    payments and adjustments of its own accounts only."""
    __slots__ = ()

    company = fields.Function(fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('account')

    @fields.depends('account', '_parent_account.company')
    def on_change_with_company(self, name=None):
        if self.account:
            return self.account.company

    @classmethod
    def search_company(cls, name, clause):
        return [('account.company', *clause[1:])]

    @fields.depends('account', '_parent_account.company')
    def on_change_with_currency(self, name=None):
        if self.account:
            return company_currency(self.account.company)
