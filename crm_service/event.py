"""The history of a request: every step, who took it and when. Written by
the request's own steps only; nobody edits it."""
import datetime as dt

from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.transaction import Transaction, without_check_access

EVENT_KINDS = [
    ('created', "Taken"),
    ('contact', "Customer Contact"),
    ('transferred', "Transferred"),
    ('help_asked', "Help Asked"),
    ('answered', "Answered"),
    ('waiting', "Waiting on Customer"),
    ('resumed', "Resumed"),
    ('reminded', "Deadline Reminder"),
    ('escalated', "Escalated"),
    ('repeat', "Repeat Complaint"),
    ('merged', "Merged"),
    ('compensation', "Compensation"),
    ('visit', "Return Visit"),
    ('resolved', "Resolved"),
    ('confirmed', "Confirmed by Customer"),
    ('closed', "Closed"),
    ('reopened', "Reopened"),
    ]


class RequestEvent(ModelSQL, ModelView):
    "Service request event"
    __name__ = 'telecom.service_request.event'

    request = fields.Many2One('telecom.service_request', "Request",
        required=True, ondelete='CASCADE', readonly=True)
    date = fields.DateTime("Date", required=True, readonly=True)
    kind = fields.Selection(EVENT_KINDS, "Kind", required=True,
        readonly=True)
    employee = fields.Many2One('company.employee', "Employee",
        readonly=True, ondelete='RESTRICT')
    company = fields.Many2One('company.company', "Company", readonly=True,
        ondelete='RESTRICT',
        help="The company of whoever took the step.")
    description = fields.Text("Description", readonly=True)
    kind_string = kind.translated('kind')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('request')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t,
                (t.request, Index.Range()), (t.date, Index.Range())))
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def values(cls, request, kind, description=None, date=None,
            employee=None):
        "The row of one event, for record() in a batch"
        context = Transaction().context
        if employee is None:
            employee = context.get('employee')
        return {
            'request': int(request),
            'kind': kind,
            'date': date or dt.datetime.now(),
            'employee': int(employee) if employee else None,
            'company': context.get('company'),
            'description': description,
            }

    @classmethod
    def record(cls, vlist):
        """Write events in one batch: the history is the request's, the
        person taking the step need not have rights on it"""
        if not vlist:
            return []
        with without_check_access():
            return cls.create(vlist)

    @classmethod
    def log(cls, requests, kind, description=None, **kwargs):
        "One event of the same kind on each request"
        return cls.record([cls.values(r, kind, description, **kwargs)
                for r in requests])

