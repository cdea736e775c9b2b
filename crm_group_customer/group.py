"""Group (enterprise) customers: a party.party with its enterprise code,
group code, industry, size, value level, parent group and branches, key
contacts, members and account manager"""
from sql import Null
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import Exclude, Index, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction

from crm_telecom.party import grouped_ids

from .exceptions import GroupValidationError

# Tryton lists the enterprise code (统一社会信用代码) among the VAT numbers:
# its identifier type is cn_vat, validated by stdnum.cn.uscc
USCC_TYPE = 'cn_vat'
SIZES = [
    (None, ""),
    ('micro', "Micro"),
    ('small', "Small"),
    ('medium', "Medium"),
    ('large', "Large"),
    ('extra_large', "Extra Large"),
    ]
VALUE_LEVELS = [
    (None, ""),
    ('a', "A"),
    ('b', "B"),
    ('c', "C"),
    ('d', "D"),
    ]
SCOPES = [
    (None, ""),
    ('province', "Province"),
    ('national', "National"),
    ]
_group = Bool(Eval('group_customer'))


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    group_customer = fields.Boolean("Group Customer",
        help="An enterprise customer (集团客户) served by an account "
        "manager.")
    group_code = fields.Char("Group Code", readonly=True,
        states={'invisible': ~_group})
    uscc = fields.Function(fields.Char("Unified Social Credit Code",
            states={'invisible': ~_group}),
        'get_uscc', searcher='search_uscc')
    industry = fields.Many2One('telecom.group.industry', "Industry",
        ondelete='RESTRICT', states={'invisible': ~_group})
    group_size = fields.Selection(SIZES, "Size", sort=False,
        states={'invisible': ~_group})
    value_level = fields.Selection(VALUE_LEVELS, "Value Level", sort=False,
        readonly=True, states={'invisible': ~_group},
        help="Set by the value level rules from the group's revenue, "
        "members and products.")
    group_scope = fields.Selection(SCOPES, "Scope",
        states={'invisible': ~_group, 'required': _group},
        help="A national group has branches in several provinces and is "
        "seen by headquarters.")
    parent_group = fields.Many2One('party.party', "Parent Group",
        ondelete='RESTRICT',
        domain=[('group_customer', '=', True), ('id', '!=', Eval('id', -1))],
        states={'invisible': ~_group})
    branches = fields.One2Many('party.party', 'parent_group', "Branches",
        readonly=True, states={'invisible': ~_group})
    account_manager = fields.Many2One('company.employee', "Account Manager",
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={'invisible': ~_group})
    manager_assignments = fields.One2Many('telecom.group.manager_assignment',
        'group', "Account Manager History", readonly=True,
        states={'invisible': ~_group})
    group_contacts = fields.One2Many('telecom.group.contact', 'group',
        "Key Contacts", states={'invisible': ~_group})
    group_members = fields.One2Many('telecom.group.member', 'group',
        "Members", readonly=True, states={'invisible': ~_group})
    group_products = fields.One2Many('telecom.group.product', 'group',
        "Group Products", readonly=True, states={'invisible': ~_group})
    group_account = fields.Many2One('telecom.account', "Group Account",
        ondelete='RESTRICT',
        domain=[('payer', '=', Eval('id', -1))],
        states={'invisible': ~_group},
        help="The group's own billing account: it pays the group products "
        "and what the group pays for its members (集团统付).")
    member_count = fields.Function(fields.Integer("Members",
            states={'invisible': ~_group}),
        'get_member_count')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('group_code_unique', Exclude(t, (t.group_code, Equal)),
                'crm_group_customer.msg_group_code_unique'),
            ]
        # the bill run finds the groups of the accounts it bills
        cls._sql_indexes.add(Index(t, (t.group_account, Index.Range()),
                where=t.group_account != Null))

    @classmethod
    def default_group_customer(cls):
        return bool(Transaction().context.get('group_customer'))

    @classmethod
    def default_group_scope(cls):
        if Transaction().context.get('group_customer'):
            return 'province'

    @classmethod
    def get_uscc(cls, parties, name):
        Identifier = Pool().get('party.identifier')
        result = dict.fromkeys((p.id for p in parties))
        for sub_ids in grouped_ids(parties):
            for identifier in Identifier.search([
                        ('party', 'in', sub_ids),
                        ('type', '=', USCC_TYPE),
                        ], order=[('id', 'DESC')]):
                result[identifier.party.id] = identifier.code
        return result

    @classmethod
    def search_uscc(cls, name, clause):
        _, operator, value = clause[:3]
        return [('identifiers', 'where', [
                    ('type', '=', USCC_TYPE),
                    ('code', operator, value),
                    ])]

    @classmethod
    def get_member_count(cls, parties, name):
        Member = Pool().get('telecom.group.member')
        result = dict.fromkeys((p.id for p in parties), 0)
        for sub_ids in grouped_ids(parties):
            for row in Member.search_read([
                        ('group', 'in', sub_ids),
                        ('state', '=', 'active'),
                        ], fields_names=['group']):
                result[row['group']] += 1
        return result

    @classmethod
    def validate_fields(cls, parties, field_names):
        super().validate_fields(parties, field_names)
        if field_names is None or field_names & {
                'group_customer', 'identifiers'}:
            cls.check_uscc(parties)

    @classmethod
    def check_uscc(cls, parties):
        "A group customer is known by its enterprise code"
        for party in parties:
            if party.group_customer and not any(
                    i.type == USCC_TYPE for i in party.identifiers):
                raise GroupValidationError(gettext(
                        'crm_group_customer.msg_group_uscc_required',
                        party=party.rec_name))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if (mode == 'create' and values.get('group_customer')
                and not values.get('group_code')):
            sequence = Pool().get('telecom.configuration')(
                1).group_code_sequence
            values['group_code'] = sequence.get()
        return values

    @classmethod
    def on_modification(cls, mode, parties, field_names=None):
        super().on_modification(mode, parties, field_names=field_names)
        if mode == 'create' or (mode == 'write'
                and field_names and 'account_manager' in field_names):
            Pool().get('telecom.group.manager_assignment').record(
                [p for p in parties if p.group_customer])

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('group_code', None)
        default.setdefault('manager_assignments', None)
        default.setdefault('group_members', None)
        default.setdefault('group_products', None)
        return super().copy(parties, default=default)
