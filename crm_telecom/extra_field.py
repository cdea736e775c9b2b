import datetime as dt
import re
from decimal import Decimal

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin,
    DictSchemaMixin,
    ModelSQL,
    ModelView,
    Unique,
    fields,
    sequence_ordered,
)
from trytond.pool import Pool
from trytond.tools import slugify
from trytond.transaction import Transaction, inactive_records

from .exceptions import ExtraFieldError

# the kinds of value an administrator offers, in the words of the form
TYPES = [
    ('char', "Text"),
    ('integer', "Whole Number"),
    ('float', "Decimal Number"),
    ('numeric', "Amount"),
    ('boolean', "Yes/No"),
    ('date', "Date"),
    ('datetime', "Date and Time"),
    ('selection', "Single Choice"),
    ('multiselection', "Multiple Choice"),
    ]
NAME = re.compile(r'^[a-z][a-z0-9_]*$')


class ExtraField(
        DeactivableMixin, sequence_ordered(), DictSchemaMixin, ModelSQL,
        ModelView):
    "Administrator-defined field added to customers or subscribers"
    __name__ = 'telecom.extra_field'

    target = fields.Selection([
            ('party.party', "Customer"),
            ('telecom.subscriber', "Subscriber"),
            ], "Applies To", required=True)

    type_string = DictSchemaMixin.type_.translated('type_')
    _blank_cache = Cache('telecom.extra_field.blank', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('target_name_unique', Unique(t, t.target, t.name),
                'crm_telecom.msg_extra_field_name_unique'),
            ]
        # the core's labels speak of schemas and domains: these strings
        # get the module's own translations
        cls.name.string = "Field Name"
        cls.name.help = ("The key the value is kept under: lowercase "
            "letters, digits and underscores, starting with a letter "
            "(e.g. occupation).")
        cls.string.string = "Display Name"
        cls.string.help = "The label staff see on the form."
        cls.help.string = "Help Text"
        cls.help.help = "Shown to staff when they point at the field."
        cls.type_.string = "Type"
        cls.type_.selection = TYPES
        cls.type_.help = "The kind of value staff enter."
        cls.selection.string = "Options"
        cls.selection.help = ("One option per line, its code and its label "
            "separated by a colon, e.g. teacher:Teacher.")
        cls.selection_sorted.string = "Sort Options by Label"
        cls.selection_sorted.help = ("Show the options in the order of their "
            "labels instead of the order above.")
        cls.help_selection.string = "Option Help"
        cls.help_selection.help = ("One option per line, its code and its "
            "help text separated by a colon.")
        cls.digits.string = "Decimal Places"
        cls.domain.string = "Value Condition"
        cls.selection_json.string = "Options (JSON)"
        cls.help_selection_json.string = "Option Help (JSON)"
        cls.sequence.string = "Sequence"
        cls.sequence.help = "Fields are shown on the form in this order."
        cls.active.string = "In Use"
        cls.active.help = "Uncheck to take the field off the forms."

    @classmethod
    def default_target(cls):
        return 'party.party'

    @fields.depends('name', 'string')
    def on_change_string(self):
        # propose the key from a label in letters; a Chinese label leaves it
        # to the administrator
        if not self.name and self.string:
            name = slugify(self.string.lower(), hyphenate='_')
            if NAME.match(name):
                self.name = name

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        if field_names is None or 'name' in field_names:
            for record in records:
                if not NAME.match(record.name or ''):
                    raise ExtraFieldError(gettext(
                            'crm_telecom.msg_extra_field_name',
                            name=record.name, field=record.string))

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        cls._blank_cache.clear()

    @classmethod
    def blank_values(cls, target):
        """The value of every active field of target as an empty form shows
        it, in the order of the fields: sao's text and check box entries
        give back '' and False, so these keys read so do not look edited"""
        values = cls._blank_cache.get(target)
        if values is None:
            blank = {'char': '', 'boolean': False}
            values = {f.name: blank.get(f.type_)
                for f in cls.search([('target', '=', target)])}
            cls._blank_cache.set(target, values)
        return dict(values)

    @classmethod
    def check_values(cls, records, field_names='extra'):
        """Dict fields accept any JSON: refuse values whose type does not
        match the administrator's definition, naming the field and value."""
        target = records[0].__name__ if records else None
        # a deactivated field keeps the values entered while it was active
        with inactive_records():
            definitions = {f.name: f for f in cls.search(
                    [('target', '=', target)])} if records else {}
        for record in records:
            values = getattr(record, field_names) or {}
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
        if self.type_ == 'char':
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


class ExtraValues(fields.Dict):
    """The extra values of a record as stored: an empty text entry is no
    value, as None and an empty choice (which the Dict field never stores),
    and a value without any is none"""

    def sql_format(self, value):
        if isinstance(value, dict):
            value = {k: v for k, v in value.items()
                if v is not None and v != '' and v != [] and v != ()} or None
        return super().sql_format(value)


class ExtraValuesMixin:
    """A model with an `extra` Dict of telecom.extra_field: its form shows
    every active field, not only those already filled in"""
    __slots__ = ()

    @classmethod
    def default_extra(cls):
        keys = Pool().get('telecom.extra_field').blank_values(cls.__name__)
        return dict.fromkeys(keys)

    @classmethod
    def read(cls, ids, fields_names):
        rows = super().read(ids, fields_names)
        # only what a client reads: exports, checks and the server's own
        # reads see the stored value
        if 'extra' not in fields_names or not Transaction().check_access:
            return rows
        blank = Pool().get('telecom.extra_field').blank_values(cls.__name__)
        if blank:
            for row in rows:
                row['extra'] = {**blank, **(row['extra'] or {})}
        return rows
