import datetime as dt
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import DictSchemaMixin, ModelSQL, ModelView, fields

from .exceptions import ExtraFieldError


class ExtraField(DictSchemaMixin, ModelSQL, ModelView):
    "Administrator-defined field added to customers or subscribers"
    __name__ = 'telecom.extra_field'

    target = fields.Selection([
            ('party.party', "Customer"),
            ('telecom.subscriber', "Subscriber"),
            ], "Applies To", required=True)

    type_string = DictSchemaMixin.type_.translated('type_')

    @classmethod
    def default_target(cls):
        return 'party.party'

    @classmethod
    def check_values(cls, records, field_name='extra'):
        """Dict fields accept any JSON: refuse values whose type does not
        match the administrator's definition, naming the field and value."""
        target = records[0].__name__ if records else None
        definitions = {f.name: f for f in cls.search(
                [('target', '=', target)])} if records else {}
        for record in records:
            values = getattr(record, field_name) or {}
            for key, value in values.items():
                definition = definitions.get(key)
                if definition is None:
                    raise ExtraFieldError(gettext(
                            'crm_telecom.msg_extra_field_unknown',
                            field=key, record=record.rec_name))
                if value is None or definition.accepts(value):
                    continue
                raise ExtraFieldError(gettext(
                        'crm_telecom.msg_extra_field_invalid',
                        field=definition.string, value=value,
                        type=definition.type_string,
                        record=record.rec_name))

    def accepts(self, value):
        if self.type_ == 'boolean':
            return isinstance(value, bool)
        if self.type_ == 'integer':
            return isinstance(value, int) and not isinstance(value, bool)
        if self.type_ in {'float', 'numeric'}:
            return (isinstance(value, (int, float, Decimal))
                and not isinstance(value, bool))
        if self.type_ in {'char', 'color'}:
            return isinstance(value, str)
        if self.type_ == 'date':
            return (isinstance(value, dt.date)
                and not isinstance(value, dt.datetime))
        if self.type_ == 'datetime':
            return isinstance(value, dt.datetime)
        if self.type_ == 'selection':
            return value in dict(self.get_selection_keys())
        if self.type_ == 'multiselection':
            keys = dict(self.get_selection_keys())
            return isinstance(value, (list, tuple)) and all(
                v in keys for v in value)
        return True

    def get_selection_keys(self):
        return [tuple(line.split(':', 1)) if ':' in line else (line, line)
            for line in (self.selection or '').splitlines() if line.strip()]
