"""The company of what belongs to a request (compensations, visits): the
request's, which their record rules go by."""
from trytond.model import fields


class RequestCompanyMixin:
    __slots__ = ()
    company = fields.Function(fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')

    @fields.depends('request', '_parent_request.company')
    def on_change_with_company(self, name=None):
        if self.request:
            return self.request.company

    @classmethod
    def search_company(cls, name, clause):
        return [('request.company', *clause[1:])]
