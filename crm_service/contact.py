"""Contacts of a request: each time the customer reached us about it, or
we them. Merging duplicates moves the contacts, so none is lost."""
import datetime as dt

from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.transaction import Transaction

from .request import CHANNELS


class Contact(ModelSQL, ModelView):
    "Service request contact"
    __name__ = 'telecom.service_request.contact'

    request = fields.Many2One('telecom.service_request', "Request",
        required=True, ondelete='CASCADE')
    date = fields.DateTime("Date", required=True)
    channel = fields.Selection(CHANNELS, "Channel", required=True)
    direction = fields.Selection([
            ('inbound', "From the Customer"),
            ('outbound', "To the Customer"),
            ], "Direction", required=True)
    employee = fields.Many2One('company.employee', "Employee",
        ondelete='RESTRICT', readonly=True)
    note = fields.Text("Note", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('request')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.request, Index.Range())))
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_date(cls):
        return dt.datetime.now()

    @classmethod
    def default_channel(cls):
        return 'call_centre'

    @classmethod
    def default_direction(cls):
        return 'inbound'

    @classmethod
    def default_employee(cls):
        return Transaction().context.get('employee')
