from collections import defaultdict
from decimal import Decimal

from sql import Null
from sql.aggregate import Count, Sum

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.tools.domain_inversion import is_leaf
from trytond.transaction import Transaction

from . import identity
from .company import company_currency, default_company
from .exceptions import (
    CustomerEraseError,
    IdentityError,
    IdentitySimilarityWarning,
)
from .extra_field import ExtraValues, ExtraValuesMixin
from .identity_mask import check_clause, exact_identity, identity_masked

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
LIVE_LINE_STATES = ['draft', 'active', 'suspended']


def grouped_ids(records):
    for sub in grouped_slice(records, 1000):
        yield [r.id for r in sub]


class PartyIdentifier(metaclass=PoolMeta):
    __name__ = 'party.identifier'
    _identity_fields = {'code', 'code_compact', 'rec_name'}

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # loaded through read(), which masks them, never from the values a
        # search leaves in the cache
        cls.code.loading = 'lazy'
        cls.code_compact.loading = 'lazy'

    @classmethod
    def default_type(cls):
        types = {t for t, _ in cls.get_types()}
        if identity.TYPE in types:
            return identity.TYPE

    @fields.depends('type', 'party', 'code')
    def check_code(self):
        if self.code and self.type == identity.TYPE:
            reason = identity.error(self.code)
            if reason:
                raise IdentityError(gettext(
                        'crm_telecom.msg_identity_invalid_%s' % reason,
                        code=self.code))
        elif (self.code and identity.looks_like(self.code)
                and (not self.type or identity.is_valid(self.code))):
            # under another type it would escape the rules and the mask
            raise IdentityError(gettext(
                    'crm_telecom.msg_identity_other_type', code=self.code))
        super().check_code()

    @fields.depends('type', 'code')
    def on_change_with_code(self):
        code = super().on_change_with_code()
        if code and identity.looks_like(code):
            code = identity.compact(code)
        return code

    @classmethod
    def preprocess_values(cls, mode, values):
        code = values.get('code')
        if code and identity.looks_like(code):
            values = values.copy()
            values['code'] = identity.compact(code)
        return super().preprocess_values(mode, values)

    @classmethod
    def _identity_types(cls, rows):
        "Type of each identifier read"
        identifier = cls.__table__()
        cursor = Transaction().connection.cursor()
        types = {}
        for sub_ids in grouped_slice([r['id'] for r in rows], 1000):
            cursor.execute(*identifier.select(identifier.id, identifier.type,
                    where=identifier.id.in_(list(sub_ids))))
            types.update(cursor)
        return types

    @classmethod
    def read(cls, ids, fields_names):
        rows = super().read(ids, fields_names)
        masked = cls._identity_fields & set(fields_names)
        if not masked or not identity_masked():
            return rows
        # tax identifiers (enterprise codes) are public, the others personal
        public = set(Pool().get('party.party').tax_identifier_types())
        types = cls._identity_types(rows)
        for row in rows:
            if types.get(row['id']) not in public:
                for name in masked:
                    if row.get(name):
                        row[name] = identity.mask(row[name])
        return rows

    @fields.depends('party', 'code', methods=['on_change_with_code'])
    def _notify_duplicate(self):
        # a masked role may only look an identity up by its full number
        if identity_masked() and not identity.is_valid(self.code):
            return
        yield from super()._notify_duplicate()

    @classmethod
    def on_modification(cls, mode, identifiers, field_names=None):
        pool = Pool()
        Party = pool.get('party.party')
        super().on_modification(mode, identifiers, field_names=field_names)
        if mode in {'create', 'write'} and (
                field_names is None or {'type', 'code'} & field_names):
            Party.propose_regions(
                [i.party for i in identifiers if i.type == identity.TYPE])


class Party(ExtraValuesMixin, metaclass=PoolMeta):
    __name__ = 'party.party'
    _identity_fields = {'identity_code'}

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
    region = fields.Many2One('telecom.region', "Region", ondelete='RESTRICT',
        help="Proposed from the birth place of the resident ID.")
    company = fields.Many2One('company.company', "Company",
        ondelete='RESTRICT',
        help="The company the customer is served by. Parties without a "
        "company (companies, employees, suppliers) are seen by all.")
    extra = ExtraValues('telecom.extra_field', "Extra Fields",
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
    telecom_currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_telecom_currency')
    total_balance = fields.Function(Monetary("Total Balance",
            currency='telecom_currency', digits='telecom_currency'),
        'get_total_balance')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                # shown to blacklisted customers too: the wizard says why
                # they are refused
                'activate_line': {
                    'icon': 'tryton-launch',
                    },
                })

    @classmethod
    @ModelView.button_action('crm_telecom.wizard_order_entry_party')
    def activate_line(cls, parties):
        "Open the activation wizard on the customer"
        pass

    @classmethod
    def validate_fields(cls, parties, field_names):
        super().validate_fields(parties, field_names)
        if field_names is None or 'extra' in field_names:
            Pool().get('telecom.extra_field').check_values(parties)

    @classmethod
    def _code_sequence(cls, **pattern):
        "Customers are numbered by the telecom configuration's sequence"
        sequence = Pool().get('telecom.configuration')(1).customer_sequence
        return sequence or super()._code_sequence(**pattern)

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
            if identifier.type == identity.TYPE:
                return identifier

    @property
    def identity_age(self):
        "The customer's age today from the resident ID, None when unknown"
        identifier = self.cn_identifier
        if identifier:
            return identity.age(identifier.code, Pool().get('ir.date').today())

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
                    where=(identifier.type == identity.TYPE)
                    & identifier.party.in_(list(sub_ids)),
                    order_by=[identifier.id.desc]))
            for party_id, code in cursor:
                result[party_id] = code
        return result

    @classmethod
    def read(cls, ids, fields_names):
        rows = super().read(ids, fields_names)
        if 'identity_code' in fields_names and identity_masked():
            for row in rows:
                if row.get('identity_code'):
                    row['identity_code'] = identity.mask(row['identity_code'])
        return rows

    @classmethod
    def search_identity_code(cls, name, clause):
        _, operator, value = clause[:3]
        if identity_masked():
            check_clause(cls, clause)
            operator, value = '=', exact_identity(operator, value)
        elif isinstance(value, str):
            value = identity.compact(value)
        return [('identifiers', 'where', [
                    ('type', '=', identity.TYPE),
                    ('code_compact', operator, value),
                    ])]

    @classmethod
    def search_rec_name(cls, name, clause):
        domain = super().search_rec_name(name, clause)
        if not identity_masked():
            return domain
        # a masked role finds a customer by name, or by the full ID only
        domain = [d for d in domain
            if not (is_leaf(d) and d[0].startswith('identifiers.'))]
        code = exact_identity(*clause[1:3])
        if code:
            domain.append(('identity_code', '=', code))
        return domain

    @fields.depends('region', 'identifiers')
    def on_change_identifiers(self):
        if self.region:
            return
        codes = [i.code for i in self.identifiers
            if i.type == identity.TYPE and identity.is_valid(i.code)]
        if codes:
            self.region = self._identity_regions(codes[:1]).get(codes[0])

    @classmethod
    def propose_regions(cls, parties):
        "Fill the region of parties without one from their resident ID"
        codes = {}
        for party in parties:
            if not party.region and party.cn_identifier:
                codes[party] = party.cn_identifier.code
        regions = cls._identity_regions(set(codes.values()))
        to_write = defaultdict(list)
        for party, code in codes.items():
            if code in regions:
                to_write[regions[code]].append(party)
        args = []
        for region, region_parties in to_write.items():
            args.extend([region_parties, {'region': region.id}])
        if args:
            cls.write(*args)

    @classmethod
    def _identity_regions(cls, codes):
        """The region of the birth place of each resident ID, matched by
        division code first, then by the names stdnum knows"""
        Region = Pool().get('telecom.region')
        places = {c: identity.birth_place(c) for c in codes}
        places = {c: p for c, p in places.items() if p}
        if not places:
            return {}
        division_codes = {d for p in places.values() for d in p['codes']}
        names = {n for p in places.values()
            for n in [p['county'], p['province']] if n}
        regions = Region.search(['OR',
                ('code', 'in', list(division_codes)),
                ('name', 'in', list(names)),
                ])
        by_code = {r.code: r for r in regions}
        result = {}
        for code, place in places.items():
            region = next(
                (by_code[d] for d in place['codes'] if d in by_code), None)
            region = region or cls._region_by_name(regions, place)
            if region:
                result[code] = region
        return result

    @staticmethod
    def _region_by_name(regions, place):
        "A county of the birth province, else the province itself"
        def province(region):
            while region.parent:
                region = region.parent
            return region
        province_code = place['codes'][-1]
        for region in regions:
            if region.type != 'province' and region.name == place['county']:
                top = province(region)
                if (top.code == province_code
                        or top.name == place['province']):
                    return region
        for region in regions:
            if region.type == 'province' and region.name == place['province']:
                return region

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

    @fields.depends('company')
    def on_change_with_telecom_currency(self, name=None):
        return company_currency(self.company)

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


class PartyReplace(metaclass=PoolMeta):
    __name__ = 'party.replace'

    @classmethod
    def fields_to_replace(cls):
        return super().fields_to_replace() + [
            ('telecom.account', 'payer'),
            ('telecom.subscriber', 'customer'),
            ('telecom.order', 'customer'),
            ('telecom.order', 'new_owner'),
            ]

    def check_similarity(self):
        pool = Pool()
        Warning = pool.get('res.user.warning')
        super().check_similarity()
        source, destination = self.ask.source, self.ask.destination
        codes = [p.cn_identifier.code if p.cn_identifier else ''
            for p in [source, destination]]
        if codes[0] != codes[1]:
            key = Warning.format('crm_telecom.replace identity',
                [source, destination])
            if identity_masked():
                codes = [identity.mask(c) for c in codes]
            if Warning.check(key):
                raise IdentitySimilarityWarning(key, gettext(
                        'crm_telecom.msg_replace_different_identity',
                        source=source.rec_name, source_code=codes[0],
                        destination=destination.rec_name,
                        destination_code=codes[1]))


class PartyErase(metaclass=PoolMeta):
    __name__ = 'party.erase'

    def check_erase(self, party):
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        Order = pool.get('telecom.order')
        super().check_erase(party)
        lines = Subscriber.search([
                ('customer', '=', party.id),
                ('state', 'in', LIVE_LINE_STATES),
                ], limit=5)
        if lines:
            raise CustomerEraseError(gettext(
                    'crm_telecom.msg_erase_live_lines',
                    customer=party.rec_name,
                    lines=', '.join(l.rec_name for l in lines)))
        orders = Order.search([
                ('state', 'in', OPEN_ORDER_STATES),
                ['OR',
                    ('customer', '=', party.id),
                    ('new_owner', '=', party.id),
                    ],
                ], limit=5)
        if orders:
            raise CustomerEraseError(gettext(
                    'crm_telecom.msg_erase_open_orders',
                    customer=party.rec_name,
                    orders=', '.join(o.rec_name for o in orders)))

    def to_erase(self, party_id):
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        Subscriber = pool.get('telecom.subscriber')
        return super().to_erase(party_id) + [
            (Party, [('id', '=', party_id)], False,
                ['extra', 'blacklist_reason'], [None, None]),
            # party erases the code but keeps its compact copy
            (Identifier, [('party', '=', party_id)], False,
                ['code_compact'], ['****']),
            (Subscriber, [('customer', '=', party_id)], False,
                ['extra'], [None]),
            ]
