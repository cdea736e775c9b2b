"""Resident IDs on party's cn_ric type: the suite's rules on top of
python-stdnum, the region proposed from the birth place, masking through
every door for the roles without the identity group, and merging or
erasing customers."""
import datetime as dt
import json
import os
import unittest
from contextlib import contextmanager
from unittest.mock import patch

from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import ValidationError
from trytond.modules.party.tests import (
    PartyCheckEraseMixin,
    PartyCheckReplaceMixin,
)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    RouteTestCase,
    activate_module,
    with_transaction,
)
from trytond.transaction import Transaction, check_access

from crm_telecom import identity
from crm_telecom.tests.tools import (
    PASSWORD,
    RPCMixin,
    activation,
    create_account,
    create_customer,
    create_numbers,
    create_staff,
    erase_party,
    order,
    replace_party,
    setup_reference,
    valid_id,
)

CODE = '11010519491231002X'
MASKED = '1101**********002X'


class IdentityRulesTestCase(unittest.TestCase):
    "The suite's rules on top of stdnum.cn.ric"

    def test_birth_place(self):
        "A division code not yet in use in the year of birth is refused"
        # 禅城区 has its code since 2002
        self.assertEqual(identity.error(
                identity.make('440604', dt.date(1990, 1, 1), 1)),
            'birth_place')
        self.assertIsNone(identity.error(
                identity.make('440604', dt.date(2003, 1, 1), 1)))

    def test_compact(self):
        "Staff may type spaces, hyphens and a lower-case x"
        self.assertEqual(identity.compact('110105 19491231-002x '), CODE)
        self.assertTrue(identity.is_valid('110105 19491231 002x'))
        self.assertTrue(identity.looks_like('110105194912310021'))
        self.assertFalse(identity.looks_like('91440300MA5D8X1234'))

    def test_place_codes(self):
        place = identity.birth_place(valid_id(region='440106'))
        self.assertEqual(place['codes'], ['440106', '440100', '440000'])
        self.assertEqual(place['county'], "天河区")
        self.assertEqual(place['province'], "广东省")
        self.assertIsNone(identity.birth_place('12345'))


class IdentityTestCase(unittest.TestCase):
    "Resident IDs of customers"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    def user(self, group):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        user, = User.create([{'login': group, 'groups': [
                        ('add', [ModelData.get_id('crm_telecom', group)])]}])
        return user

    @contextmanager
    def as_user(self, user):
        "A staff call: the user's rights, access checked"
        with Transaction().set_user(user.id), check_access():
            yield

    # --- one resident-ID type, party's own ---------------------------------

    @with_transaction()
    def test_one_resident_id_type(self):
        "The client offers party's cn_ric, once, by default"
        Identifier = Pool().get('party.identifier')
        selection = dict(Identifier.get_types())
        self.assertIn('cn_ric', selection)
        # party names the enterprise code (cn_uscc) after VAT
        self.assertIn('cn_vat', selection)
        self.assertNotIn('cn_id', selection)
        self.assertEqual([k for k in selection if k and k.startswith('cn_')],
            ['cn_ric', 'cn_vat'])
        self.assertEqual(Identifier.default_get(['type'])['type'], 'cn_ric')

    @with_transaction()
    def test_stored_compact(self):
        "The number is stored in its compact form, code and code_compact"
        party = create_customer(code='110105 19491231 002x')
        identifier, = party.identifiers
        self.assertEqual(identifier.type, 'cn_ric')
        self.assertEqual(identifier.code, CODE)
        self.assertEqual(identifier.code_compact, CODE)
        identifier.code = '110105-19491231-002x'
        identifier.save()
        self.assertEqual(identifier.code, CODE)

    @with_transaction()
    def test_birth_place_refused(self):
        "stdnum's birth place check, with the suite's own message"
        code = identity.make('440604', dt.date(1990, 1, 1), 1)
        with self.assertRaises(ValidationError) as cm:
            create_customer(code=code)
        self.assertIn(code, cm.exception.message)
        self.assertIn('division code', cm.exception.message)

    @with_transaction()
    def test_future_birth_refused(self):
        "stdnum accepts a birth in the future, the suite does not"
        code = identity.make('110105', dt.date.today() + dt.timedelta(
                days=400), 1)
        self.assertTrue(identity.ric.is_valid(code))
        with self.assertRaises(ValidationError) as cm:
            create_customer(code=code)
        self.assertIn('birth date', cm.exception.message)

    @with_transaction()
    def test_resident_id_under_other_type(self):
        "A resident ID typed under another type or none is refused"
        Identifier = Pool().get('party.identifier')
        party = create_customer(code=False)
        for type_, code in [
                (None, CODE),
                (None, '110105194912310021'),
                ('cn_vat', CODE),
                ]:
            with self.subTest(type=type_, code=code):
                with self.assertRaises(ValidationError) as cm:
                    Identifier.create([{'party': party.id, 'type': type_,
                                'code': code}])
                self.assertIn('Chinese Resident Identity Card Number',
                    cm.exception.message)
        # an enterprise code keeps its own type
        uscc, = Identifier.create([{'party': party.id, 'type': 'cn_vat',
                    'code': '91110000600037341L'}])
        self.assertEqual(uscc.type, 'cn_vat')

    # --- region from the birth place ---------------------------------------

    @with_transaction()
    def test_region_proposed(self):
        "A customer created without region gets the ID's birth place"
        regions, _, _ = setup_reference()
        tianhe = create_customer(code=valid_id(region='440106'))
        self.assertEqual(tianhe.region, regions['440106'])
        # a district the reference data lacks: its city
        haizhu = create_customer(code=valid_id(2, region='440105'))
        self.assertEqual(haizhu.region, regions['440100'])
        # nothing known of Beijing
        beijing = create_customer(code=valid_id(3, region='110105'))
        self.assertIsNone(beijing.region)
        # a region chosen by the clerk stays
        chosen = create_customer(code=valid_id(4, region='440106'),
            region=regions['440305'].id)
        self.assertEqual(chosen.region, regions['440305'])

    @with_transaction()
    def test_region_proposed_by_name(self):
        "Regions coded otherwise are found by the names stdnum knows"
        Region = Pool().get('telecom.region')
        province, = Region.create([{'name': "广东省", 'code': 'GD',
                    'type': 'province', 'children': [('create', [{
                                    'name': "广州市", 'code': 'GZ',
                                    'type': 'city', 'children': [('create', [{
                                                    'name': "天河区",
                                                    'code': 'GZ-TH',
                                                    'type': 'district',
                                                    }])]}])]}])
        tianhe, = Region.search([('code', '=', 'GZ-TH')])
        party = create_customer(code=valid_id(region='440106'))
        self.assertEqual(party.region, tianhe)
        # only the province is known for a district elsewhere in it
        other = create_customer(code=valid_id(2, region='440305'))
        self.assertEqual(other.region, province)

    @with_transaction()
    def test_region_on_change(self):
        "The form proposes the region as soon as the ID is entered"
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        regions, _, _ = setup_reference()
        party = Party(region=None, identifiers=[
                Identifier(type='cn_ric', code=valid_id(region='440304'))])
        party.on_change_identifiers()
        self.assertEqual(party.region, regions['440304'])
        party.region = regions['440103']
        party.on_change_identifiers()
        self.assertEqual(party.region, regions['440103'])

    # --- masked roles ----------------------------------------------------

    def setup_masked(self):
        "A customer with a line and an account, and a call-centre agent"
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        party = create_customer(code=CODE)
        number, = create_numbers('13800138000')
        line_order = activation(party, number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        Order.process([line_order])
        return party, line_order.subscriber, self.user('group_call_centre')

    @with_transaction()
    def test_masked_wildcard_search_refused(self):
        "Masked roles cannot rebuild an ID with partial searches"
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        Subscriber = pool.get('telecom.subscriber')
        Account = pool.get('telecom.account')
        party, subscriber, agent = self.setup_masked()
        with self.as_user(agent):
            resident_id, code, compact = (
                "Resident ID", '"Code"', "Code Compact")
            for Model, domain, field, value in [
                    (Party, [('identity_code', 'like', '1101%')],
                        resident_id, '1101%'),
                    (Party, [('identity_code', 'ilike', '%002x')],
                        resident_id, '%002x'),
                    (Party, [('identity_code', 'not like', '11%')],
                        resident_id, '11%'),
                    (Party, [('identity_code', 'in', ['1101', CODE])],
                        resident_id, '1101'),
                    (Party, [('identity_code', '>', '110105194')],
                        resident_id, '110105194'),
                    (Party, [('identity_code', '=', '110105194912310')],
                        resident_id, '110105194912310'),
                    (Party, [('identity_code', '!=', CODE)],
                        resident_id, CODE),
                    (Party, ['OR', ('name', '=', "x"),
                            ('identity_code', 'like', '1%')],
                        resident_id, '1%'),
                    (Party, [('identifiers.code', 'like', '1101%')],
                        code, '1101%'),
                    (Party, [('identifiers.code_compact', 'ilike', '%002X')],
                        compact, '%002X'),
                    (Party, [('identifiers.rec_name', 'like', '1101%')],
                        code, '1101%'),
                    (Party, [('identifiers', 'ilike', '1101%')],
                        code, '1101%'),
                    (Party, [('identifiers', 'where',
                                [('code', 'like', '1101%')])],
                        code, '1101%'),
                    (Identifier, [('code', 'like', '1101%')], code, '1101%'),
                    (Identifier, [('code_compact', 'ilike', '%2X')],
                        compact, '%2X'),
                    (Identifier, [('rec_name', 'ilike', '%0105%')],
                        code, '%0105%'),
                    (Identifier, [('party.identity_code', 'like', '1101%')],
                        resident_id, '1101%'),
                    (Subscriber, [('customer.identity_code', 'like', '1101%')],
                        resident_id, '1101%'),
                    (Subscriber, [('customer.identifiers.code', 'like', '11%')],
                        code, '11%'),
                    (Account, [('payer.identifiers.code_compact', 'like', '1%')],
                        compact, '1%'),
                    (Account, [('payer.identity_code', 'not like', '2%')],
                        resident_id, '2%'),
                    ]:
                with self.subTest(model=Model.__name__, domain=domain):
                    with self.assertRaises(UserError) as cm:
                        Model.search(domain)
                    # the error names the field and the value searched
                    self.assertIn(field, cm.exception.message)
                    self.assertIn(value, cm.exception.message)
                    with self.assertRaises(UserError):
                        Model.search_count(domain)

    @with_transaction()
    def test_masked_search_refused_in_chinese(self):
        "The refusal names the field and the value in Chinese"
        pool = Pool()
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        Party = pool.get('party.party')
        chinese, = Lang.search([('code', '=', 'zh_CN')])
        Lang.write([chinese], {'translatable': True})
        Translation.translation_import('zh_CN', 'crm_telecom',
            os.path.join(os.path.dirname(os.path.dirname(__file__)),
                'locale', 'zh_CN.po'))
        party, subscriber, agent = self.setup_masked()
        with self.as_user(agent), \
                Transaction().set_context(language='zh_CN'):
            with self.assertRaises(UserError) as cm:
                Party.search([('identity_code', 'like', '1101%')])
        self.assertEqual(cm.exception.message,
            "不能按“like 1101%”查找“居民身份证号码”："
            "只能查找一个完整的居民身份证号码。")

    @with_transaction()
    def test_masked_order_refused(self):
        "Masked roles cannot sort on an identity to rank it"
        pool = Pool()
        Identifier = pool.get('party.identifier')
        Subscriber = pool.get('telecom.subscriber')
        Party = pool.get('party.party')
        party, subscriber, agent = self.setup_masked()
        with self.as_user(agent):
            for Model, order in [
                    (Identifier, [('code', 'ASC')]),
                    (Identifier, [('code_compact', 'DESC')]),
                    (Identifier, [('rec_name', 'ASC')]),
                    (Party, [('identity_code', 'ASC')]),
                    (Subscriber, [('customer.identity_code', 'ASC')]),
                    ]:
                with self.subTest(model=Model.__name__, order=order):
                    with self.assertRaises(UserError):
                        Model.search([], order=order)

    @with_transaction()
    def test_masked_exact_search(self):
        "Masked roles find a caller by the exact full ID, and by name"
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        Subscriber = pool.get('telecom.subscriber')
        party, subscriber, agent = self.setup_masked()
        with self.as_user(agent):
            self.assertEqual(Party.search([('identity_code', '=', CODE)]),
                [party])
            self.assertEqual(Party.search(
                    [('identity_code', '=', '110105 19491231 002x')]), [party])
            # as the client's search box sends it
            self.assertEqual(Party.search(
                    [('identity_code', 'ilike', '%%%s%%' % CODE.lower())]),
                [party])
            with self.assertRaises(UserError):
                Party.search([('identity_code', 'like', '11010519491231002_')])
            self.assertEqual(Subscriber.search(
                    [('customer.identity_code', '=', CODE)]), [subscriber])
            self.assertEqual(len(Identifier.search([('code', '=', CODE)])), 1)
            # the search box (rec_name) matches names, and the full ID only
            self.assertEqual(Party.search([('rec_name', 'ilike', '%张三%')]),
                [party])
            self.assertEqual(Party.search([('rec_name', 'ilike', '%1101%')]), [])
            self.assertEqual(Party.search([('rec_name', 'ilike', '%002X%')]), [])
            self.assertEqual(Party.search(
                    [('rec_name', 'ilike', '%%%s%%' % CODE)]), [party])
            self.assertEqual(Subscriber.search(
                    [('customer', 'ilike', '%0105194%')]), [])
            self.assertEqual(Subscriber.search(
                    [('customer', 'ilike', CODE)]), [subscriber])

    @with_transaction()
    def test_masked_read_and_export(self):
        "Reads and exports stay masked whatever the path"
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        Subscriber = pool.get('telecom.subscriber')
        Account = pool.get('telecom.account')
        party, subscriber, agent = self.setup_masked()
        account = subscriber.account
        identifier, = party.identifiers
        uscc, = Identifier.create([{'party': party.id, 'type': 'cn_vat',
                    'code': '91110000600037341L'}])
        with self.as_user(agent):

            row, = Identifier.read([identifier.id],
                ['code', 'code_compact', 'rec_name'])
            self.assertEqual([row['code'], row['code_compact'], row['rec_name']],
                [MASKED] * 3)
            # enterprise codes are public
            row, = Identifier.read([uscc.id], ['code'])
            self.assertEqual(row['code'], '91110000600037341L')
            row, = Subscriber.read([subscriber.id], [
                    'customer.identity_code', 'customer.identifiers.code'])
            self.assertEqual(row['customer.']['identity_code'], MASKED)
            self.assertIn(MASKED, [i['code']
                    for i in row['customer.']['identifiers.']])
            self.assertNotIn(CODE, str(row))
            rows = Party.search_read([('id', '=', party.id)],
                fields_names=['identity_code', 'identifiers.rec_name'])
            self.assertNotIn(CODE, str(rows))

            for Model, record, paths in [
                    (Party, party, ['identity_code', 'identifiers/code',
                            'identifiers/code_compact', 'identifiers/rec_name',
                            'identifiers']),
                    (Subscriber, subscriber, ['number/number',
                            'customer/identity_code',
                            'customer/identifiers/code',
                            'customer/identifiers/rec_name']),
                    (Account, account, ['payer/identity_code',
                            'payer/identifiers/code']),
                    (Identifier, identifier, ['code', 'rec_name',
                            'party/identity_code']),
                    ]:
                with self.subTest(model=Model.__name__):
                    rows = Model.export_data([Model(record.id)], paths)
                    self.assertNotIn(CODE, str(rows))
                    self.assertIn(MASKED, str(rows))
                    rows = Model.export_data_domain(
                        [('id', '=', record.id)], paths)
                    self.assertNotIn(CODE, str(rows))

    @with_transaction()
    def test_masked_report(self):
        "Reports render the records a masked role prints masked"
        pool = Pool()
        SubscriberList = pool.get('telecom.subscriber.list.xlsx',
            type='report')
        party, subscriber, agent = self.setup_masked()
        printed = []

        def render(records, header, data, action):
            printed.extend(r.customer.identity_code for r in records)
            return 'xlsx', b''
        with patch.object(SubscriberList, '_execute', render), \
                self.as_user(agent):
            SubscriberList.execute([subscriber.id], {
                    'model': 'telecom.subscriber'})
        self.assertEqual(printed, [MASKED])
        self.assertEqual(party.identity_code, CODE)

    @with_transaction()
    def test_masked_role_keeps_server_rules(self):
        "Server code still reads the full ID for a masked role's order"
        pool = Pool()
        Order = pool.get('telecom.order')
        Subscriber = pool.get('telecom.subscriber')
        party, subscriber, agent = self.setup_masked()
        number, = create_numbers('13800138001')
        _, brands, products = setup_reference()
        draft = activation(party, number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        with self.as_user(agent):
            # a search and an export by the agent leave nothing masked behind
            found, = Subscriber.search([('customer.identity_code', '=', CODE)])
            Subscriber.export_data([found], ['customer/identity_code'])
            self.assertEqual(found.customer.cn_identifier.code, CODE)
            draft, = Order.search([('id', '=', draft.id)])
            Order.submit([draft])
            self.assertNotEqual(draft.state, 'draft')

    @with_transaction()
    def test_identity_group_unrestricted(self):
        "Clerks see and search full IDs"
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        party = create_customer(code=CODE)
        with self.as_user(self.user('group_clerk')):
            self.assertEqual(Party.search([('identity_code', 'like', '1101%')]),
                [party])
            self.assertEqual(Party.search([('rec_name', 'ilike', '%110105%')]),
                [party])
            self.assertEqual(len(Identifier.search([], order=[('code', 'ASC')])),
                1)
            rows = Party.export_data([party], ['identifiers/code'])
            self.assertEqual(rows, [[CODE]])

    # --- merge and erase --------------------------------------------------

    @with_transaction()
    def test_replace_moves_customer(self):
        "Merging a duplicate moves its accounts, lines and orders"
        pool = Pool()
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        duplicate = create_customer(code=CODE)
        customer = create_customer(code=CODE)
        number, new_number = create_numbers('13800138000', '13800138001')
        done = activation(duplicate, number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        Order.process([done])
        subscriber = done.subscriber
        account = subscriber.account
        draft = activation(duplicate, new_number, brands['SZX'],
            products["神州行 18元畅聊卡"], account=account)
        # a transfer of someone else's line to the duplicate
        heir = create_customer(name="李四", sequence=2)
        heir_order = activation(heir, create_numbers('13800138002')[0],
            brands['SZX'], products["神州行 18元畅聊卡"])
        Order.process([heir_order])
        transfer = order('transfer', heir_order.subscriber,
            new_owner=duplicate.id, account=account.id)

        replace_party(duplicate, customer)

        for record, field in [
                (account, 'payer'), (subscriber, 'customer'),
                (done, 'customer'), (draft, 'customer'),
                (transfer, 'new_owner')]:
            with self.subTest(record=record, field=field):
                self.assertEqual(getattr(record.__class__(record.id), field),
                    customer)
        self.assertEqual(transfer.customer, heir)
        self.assertFalse(duplicate.active)
        self.assertEqual(customer.line_count, 1)

    @with_transaction()
    def test_replace_different_identity_warns(self):
        "Merging two people with different IDs asks first"
        source = create_customer(code=CODE)
        destination = create_customer(sequence=5)
        with self.assertRaises(UserWarning) as cm:
            replace_party(source, destination)
        self.assertIn(CODE, cm.exception.message)
        self.assertIn(valid_id(5), cm.exception.message)

    @with_transaction()
    def test_erase_refused_with_live_line_or_open_order(self):
        "A customer with a live line or an open order keeps their data"
        pool = Pool()
        Party = pool.get('party.party')
        Order = pool.get('telecom.order')
        regions, brands, products = setup_reference()
        party = create_customer(code=CODE)
        number, other = create_numbers('13800138000', '13800138001')
        line_order = activation(party, number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        Order.process([line_order])
        subscriber = line_order.subscriber
        Party.write([party], {'active': False})

        with self.assertRaises(UserError) as cm:
            erase_party(party)
        self.assertIn(party.name, cm.exception.message)
        self.assertIn(subscriber.rec_name, cm.exception.message)

        Order.process([order('terminate', subscriber)])
        draft = activation(party, other, brands['SZX'],
            products["神州行 18元畅聊卡"], account=subscriber.account)
        with self.assertRaises(UserError) as cm:
            erase_party(party)
        self.assertIn(draft.rec_name, cm.exception.message)
        self.assertEqual(party.identity_code, CODE)

    @with_transaction()
    def test_erase(self):
        "Erasing leaves no resident ID nor extra data behind"
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        Order = pool.get('telecom.order')
        ExtraField = pool.get('telecom.extra_field')
        regions, brands, products = setup_reference()
        ExtraField.create([{'name': 'occupation', 'string': "Occupation",
                    'type_': 'char', 'target': 'party.party'}])
        party = create_customer(code=CODE, extra={'occupation': "教师"})
        number, = create_numbers('13800138000')
        line_order = activation(party, number, brands['SZX'],
            products["神州行 18元畅聊卡"])
        Order.process([line_order])
        Order.process([order('terminate', line_order.subscriber)])
        Party.write([party], {'active': False, 'blacklisted': True,
                'blacklist_reason': "欠费不还"})

        erase_party(party)

        party = Party(party.id)
        self.assertIsNone(party.name)
        self.assertIsNone(party.extra)
        self.assertIsNone(party.blacklist_reason)
        self.assertIsNone(party.identity_code)
        identifier = Identifier.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*identifier.select(identifier.code,
                identifier.code_compact,
                where=identifier.party == party.id))
        self.assertEqual(cursor.fetchall(), [('****', '****')])
        self.assertEqual(Party.search([('identity_code', '=', CODE)]), [])


class PartyWizardsTestCase(
        PartyCheckEraseMixin, PartyCheckReplaceMixin, unittest.TestCase):
    "party.replace and party.erase as Tryton's party tests check them"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    @with_transaction()
    def test_suite_fields_replaced(self):
        Replace = Pool().get('party.replace', type='wizard')
        self.assertLessEqual({
                ('telecom.account', 'payer'),
                ('telecom.subscriber', 'customer'),
                ('telecom.order', 'customer'),
                ('telecom.order', 'new_owner'),
                }, set(Replace.fields_to_replace()))


class IdentityRPCTestCase(RPCMixin, RouteTestCase):
    "Masked IDs through the JSON-RPC calls the web client makes"
    module = 'crm_telecom'

    @classmethod
    def setUpDatabase(cls):
        create_staff('callcentre', 'group_call_centre', name="客服",
            password=PASSWORD)
        create_account(create_customer(code=CODE))

    def test_masked_through_rpc(self):
        client = self.client()
        agent = self.login(client, 'callcentre')

        party_id, = self.call(client, agent, 'model.party.party.search',
            [('identity_code', '=', CODE)], 0, None, None)
        self.assertEqual(self.call(client, agent,
                'model.party.party.search_count',
                [('identity_code', 'ilike', '%%%s%%' % CODE)]), 1)
        for method, domain, sort, field in [
                ('model.party.party.search',
                    [('identity_code', 'ilike', '%1101%')], None,
                    "Resident ID"),
                ('model.party.identifier.search',
                    [('code', 'like', '1101%')], None, "Code"),
                ('model.telecom.account.search',
                    [('payer.identifiers.code', 'like', '1101%')], None,
                    "Code"),
                ('model.party.identifier.search', [], [('code', 'ASC')],
                    "Code"),
                ]:
            with self.subTest(method=method, domain=domain, order=sort):
                error = self.call_error(client, agent, method, domain, 0,
                    None, sort)
                self.assertEqual(error[0], 'UserError')
                self.assertIn('cannot be', error[1][0])
                self.assertIn('"%s"' % field, error[1][0])

        row, = self.call(client, agent, 'model.party.party.read',
            [party_id], ['identity_code', 'identifiers.code'])
        self.assertNotIn(CODE, json.dumps(row))
        self.assertIn(MASKED, json.dumps(row))
        rows = self.call(client, agent, 'model.telecom.account.export_data',
            self.call(client, agent, 'model.telecom.account.search',
                [], 0, None, None),
            ['payer/identity_code', 'payer/identifiers/code'], True)
        self.assertNotIn(CODE, json.dumps(rows))
        self.assertIn(MASKED, json.dumps(rows))
