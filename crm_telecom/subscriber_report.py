from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool
from trytond.wizard import StateReport, StateView

from .excel import (
    Column,
    ExportFilter,
    ExportWizard,
    XlsxListReport,
    export_buttons,
)
from .subscriber import SUBSCRIBER_STATES


class SubscriberListStart(ExportFilter):
    "Subscriber list export: filters"
    __name__ = 'telecom.subscriber.list.start'

    region = fields.Many2One('telecom.region', "Region",
        help="Includes the cities and districts below it.")
    brand = fields.Many2One('telecom.brand', "Brand")
    plan = fields.Many2One('product.template', "Plan",
        domain=[('telecom_type', '=', 'plan')])
    state = fields.Selection([(None, "")] + SUBSCRIBER_STATES, "State")
    activated_from = fields.Date("Activated From")
    activated_to = fields.Date("Activated To")


class SubscriberList(ExportWizard):
    "Export the subscriber list to Excel"
    __name__ = 'telecom.subscriber.list'

    start = StateView('telecom.subscriber.list.start',
        'crm_telecom.subscriber_list_start_view_form', export_buttons())
    export = StateReport('telecom.subscriber.list.xlsx')


class SubscriberListXlsx(XlsxListReport):
    "Subscriber list (Excel)"
    __name__ = 'telecom.subscriber.list.xlsx'
    title_message = 'crm_telecom.msg_subscriber_list_title'
    model = 'telecom.subscriber'
    read_fields = [
        'number.number', 'number.grade', 'iccid', 'customer.name',
        'customer.identity_code', 'account.code', 'brand.name', 'plan.name',
        'region.name', 'state', 'activation_date', 'termination_date',
        'suspension_reason', 'extra',
        ]
    filter_model = 'telecom.subscriber.list.start'
    filter_domain = {
        'region': ('region', 'child_of'),
        'brand': ('brand', '='),
        'plan': ('plan', '='),
        'state': ('state', '='),
        'activated_from': ('activation_date', '>='),
        'activated_to': ('activation_date', '<='),
        }

    @classmethod
    def columns(cls, data):
        column = cls.field_column
        columns = [
            column('number.number', width=14),
            column('number.grade', width=8,
                label=gettext('crm_telecom.msg_xlsx_grade')),
            column('iccid', width=22),
            column('customer.name', width=16),
            column('customer.identity_code', width=20,
                label=gettext('crm_telecom.msg_xlsx_identity')),
            column('account.code', width=14),
            column('brand.name', width=10),
            column('plan.name', width=22),
            column('region.name', width=12),
            column('state', width=8),
            column('suspension_reason', width=12),
            column('activation_date', 'date', width=12),
            column('termination_date', 'date', width=12),
            ]
        for key, string in cls._extra_keys():
            columns.append(Column(string,
                    lambda r, key=key: (r.get('extra') or {}).get(key)))
        return columns

    @classmethod
    def _extra_keys(cls):
        pool = Pool()
        ExtraField = pool.get('telecom.extra_field')
        return [(f.name, f.string) for f in ExtraField.search(
                [('target', '=', 'telecom.subscriber')], order=[('id', 'ASC')])]
