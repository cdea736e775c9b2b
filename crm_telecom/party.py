from decimal import Decimal

from sql import Null
from sql.aggregate import Count, Sum

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from . import identity
from .company import default_company
from .exceptions import IdentityError

TELECOM_LEVELS = [
    ('normal', "Normal"),
    ('silver', "Silver"),
    ('gold', "Gold"),
    ('platinum', "Platinum"),
    ('diamond', "Diamond"),
    ]
CREDIT_LEVELS = [
    ('a', "A - Excellent"),
    ('b', "B - Good"),
    ('c', "C - Normal"),
    ('d', "D - Poor"),
    ]
OPEN_ORDER_STATES = ['draft', 'submitted', 'provisioning']


def grouped_ids(records):
    for sub in grouped_slice(records, 1000):
        yield [r.id for r in sub]


def identity_visible():
    """Whether the current user may see full resident ID numbers.

    Internal server code (no access check) always sees them; staff calls
    see them only with the identity group (clerks and administrators)."""
    transaction = Transaction()
    if not transaction.user or not transaction.check_access:
        return True
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    return (ModelData.get_id('crm_telecom', 'group_identity')
        in User.get_groups())


class IdentityExportMixin:
    "Mask resident IDs in exports for users who may not see them"
    __slots__ = ()
    _identity_own_paths = set()

    @classmethod
    def _is_identity_path(cls, path):
        segments = path.split('/')
        return (path in cls._identity_own_paths
            or segments[-1] == 'identity_code'
            or (len(segments) > 1 and segments[-2] == 'identifiers'
                and segments[-1] in {'code', 'code_compact', 'rec_name'}))

    @classmethod
    def export_data(cls, records, fields_names, header=False):
        data = super().export_data(records, fields_names, header=header)
        if identity_visible():
            return data
        masked = [i for i, name in enumerate(fields_names)
            if cls._is_identity_path(name)]
        for row in data[1 if header else 0:]:
            for i in masked:
                if isinstance(row[i], str) and row[i]:
                    row[i] = identity.mask(row[i])
        return data


class Configuration(metaclass=PoolMeta):
    __name__ = 'party.configuration'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        if ('cn_id', "Resident ID Card") not in (
                cls.identifier_types.selection):
            cls.identifier_types.selection.append(
                ('cn_id', "Resident ID Card"))


class PartyIdentifier(IdentityExportMixin, metaclass=PoolMeta):
    __name__ = 'party.identifier'
    _identity_own_paths = {'code', 'code_compact', 'rec_name'}

    @fields.depends('type', 'code')
    def check_code(self):
        super().check_code()
        if self.type == 'cn_id':
            reason = identity.error(self.code)
            if reason:
                raise IdentityError(gettext(
                        'crm_telecom.msg_identity_invalid_%s' % reason,
                        code=self.code))

    @fields.depends('type', 'code')
    def on_change_with_code(self):
        code = super().on_change_with_code()
        if self.type == 'cn_id' and code:
            code = identity.compact(code)
        return code

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('type') == 'cn_id' and values.get('code'):
            values['code'] = identity.compact(values['code'])
            values['code_compact'] = values['code']
        return values

    @classmethod
    def read(cls, ids, fields_names):
        rows = super().read(ids, fields_names)
        if identity_visible():
            return rows
        masked = {'code', 'code_compact', 'rec_name'} & set(fields_names)
        if not masked:
            return rows
        with Transaction().set_context(_check_access=False):
            types = {r.id: r.type for r in cls.browse([r['id'] for r in rows])}
        for row in rows:
            if types.get(row['id']) == 'cn_id':
                for name in masked:
                    if row.get(name):
                        row[name] = identity.mask(row[name])
        return rows


class Party(IdentityExportMixin, metaclass=PoolMeta):
    __name__ = 'party.party'

    telecom_level = fields.Selection(
        TELECOM_LEVELS, "Customer Tier", sort=False,
        help="Customer value tier.")
    credit_level = fields.Selection(CREDIT_LEVELS, "Credit Level", sort=False)
    blacklisted = fields.Boolean("Blacklisted",
        help="A blacklisted customer cannot activate new lines.")
    blacklist_reason = fields.Text("Blacklist Reason",
        states={
            'invisible': ~Eval('blacklisted', False),
            'required': Eval('blacklisted', False),
            })
    region = fields.Many2One('telecom.region', "Region", ondelete='RESTRICT')
    company = fields.Many2One('company.company', "Company",
        ondelete='RESTRICT',
        help="The company the customer is served by. Parties without a "
        "company (companies, employees, suppliers) are seen by all.")
    extra = fields.Dict('telecom.extra_field', "Extra Fields",
        domain=[('target', '=', 'party.party')])
    extra_string = extra.translated('extra')
    identity_code = fields.Function(fields.Char("Resident ID"),
        'get_identity_code', searcher='search_identity_code')
    telecom_accounts = fields.One2Many(
        'telecom.account', 'payer', "Billing Accounts", readonly=True)
    subscribers = fields.One2Many(
        'telecom.subscriber', 'customer', "Lines", readonly=True)
    open_orders = fields.Function(fields.Many2Many(
            'telecom.order', None, None, "Open Orders", readonly=True),
        'get_open_orders')
    subscriber_events = fields.Function(fields.Many2Many(
            'telecom.subscriber.event', None, None, "Line History",
            readonly=True),
        'get_subscriber_events')
    line_count = fields.Function(fields.Integer("Live Lines"),
        'get_line_count')
    total_balance = fields.Function(
        fields.Numeric("Total Balance", digits=(16, 2)), 'get_total_balance')

    @classmethod
    def validate_fields(cls, parties, field_names):
        super().validate_fields(parties, field_names)
        if field_names is None or 'extra' in field_names:
            Pool().get('telecom.extra_field').check_values(parties)

    @classmethod
    def default_company(cls):
        # only customers belong to a company: the customer screens say so
        # in their context; companies, employees and suppliers do not
        if Transaction().context.get('telecom_customer'):
            return default_company()

    @classmethod
    def default_telecom_level(cls):
        return 'normal'

    @classmethod
    def default_credit_level(cls):
        return 'c'

    @classmethod
    def default_blacklisted(cls):
        return False

    @property
    def cn_identifier(self):
        "The customer's resident ID identifier, if any"
        for identifier in self.identifiers:
            if identifier.type == 'cn_id':
                return identifier

    @classmethod
    def get_identity_code(cls, parties, name):
        pool = Pool()
        Identifier = pool.get('party.identifier')
        result = dict.fromkeys((p.id for p in parties), None)
        identifier = Identifier.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_ids(parties):
            cursor.execute(*identifier.select(
                    identifier.party, identifier.code,
                    where=(identifier.type == 'cn_id')
                    & identifier.party.in_(list(sub_ids)),
                    order_by=[identifier.id.desc]))
            for party_id, code in cursor:
                result[party_id] = code
        return result

    @classmethod
    def read(cls, ids, fields_names):
        rows = super().read(ids, fields_names)
        if 'identity_code' in fields_names and not identity_visible():
            for row in rows:
                if row.get('identity_code'):
                    row['identity_code'] = identity.mask(row['identity_code'])
        return rows

    @classmethod
    def search_identity_code(cls, name, clause):
        _, operator, value = clause[:3]
        if isinstance(value, str):
            value = identity.compact(value)
        return [('identifiers', 'where', [
                    ('type', '=', 'cn_id'),
                    ('code_compact', operator, value),
                    ])]

    @classmethod
    def get_open_orders(cls, parties, name):
        pool = Pool()
        Order = pool.get('telecom.order')
        result = {p.id: [] for p in parties}
        for order in Order.search([
                    ('customer', 'in', [p.id for p in parties]),
                    ('state', 'in', OPEN_ORDER_STATES),
                    ], order=[('id', 'DESC')]):
            result[order.customer.id].append(order.id)
        return result

    @classmethod
    def get_subscriber_events(cls, parties, name):
        pool = Pool()
        Event = pool.get('telecom.subscriber.event')
        result = {p.id: [] for p in parties}
        for event in Event.search([
                    ('subscriber.customer', 'in', [p.id for p in parties]),
                    ], order=[('date', 'DESC'), ('id', 'DESC')], limit=200):
            result[event.subscriber.customer.id].append(event.id)
        return result

    @classmethod
    def get_line_count(cls, parties, name):
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        subscriber = Subscriber.__table__()
        cursor = Transaction().connection.cursor()
        result = dict.fromkeys((p.id for p in parties), 0)
        for sub_ids in grouped_ids(parties):
            cursor.execute(*subscriber.select(
                    subscriber.customer, Count(subscriber.id),
                    where=subscriber.customer.in_(sub_ids)
                    & (subscriber.state != 'terminated'),
                    group_by=[subscriber.customer]))
            result.update(dict(cursor))
        return result

    @classmethod
    def get_total_balance(cls, parties, name):
        pool = Pool()
        Account = pool.get('telecom.account')
        account = Account.__table__()
        cursor = Transaction().connection.cursor()
        result = dict.fromkeys((p.id for p in parties), None)
        for sub_ids in grouped_ids(parties):
            cursor.execute(*account.select(
                    account.payer, Sum(account.balance),
                    where=account.payer.in_(sub_ids)
                    & (account.state != 'closed')
                    & (account.balance != Null),
                    group_by=[account.payer]))
            for party_id, total in cursor:
                result[party_id] = Decimal(str(total)).quantize(
                    Decimal('0.01'))
        return result
