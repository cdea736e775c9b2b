"""Business-hours calendars with holidays (placeholder)."""
from trytond.model import ModelSQL, ModelView, fields


class Calendar(ModelSQL, ModelView):
    "Service calendar"
    __name__ = 'telecom.service.calendar'

    name = fields.Char("Name", required=True, translate=True)
