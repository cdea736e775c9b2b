"The Chinese screens speak the operator's words and their lists fit"
import unittest

from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from crm_telecom.tests.words import (
    CHINESE,
    FORBIDDEN,
    LIST_BUDGET,
    activate_in_chinese,
    forbidden_words,
    list_columns,
    list_problems,
    list_width,
    module_forbidden_words,
    on_sqlite_only,
    sum_headings,
    view_words,
)

# the core modules first: crm_telecom's override rewrites their strings

# the lists staff work in: (model, view)
LISTS = [
    ('party.party', 'crm_telecom.customer_view_list'),
    ('telecom.subscriber', 'crm_telecom.subscriber_view_list'),
    ('telecom.account', 'crm_telecom.account_view_list'),
    ('telecom.order', 'crm_telecom.order_view_list'),
    ('telecom.number', 'crm_telecom.number_view_list'),
    ('telecom.subscriber.event', 'crm_telecom.subscriber_event_view_list'),
    ('telecom.subscriber.service',
        'crm_telecom.subscriber_service_view_list'),
    ('product.template', 'crm_telecom.tariff_view_list'),
    ('telecom.region', 'crm_telecom.region_view_list'),
    ('telecom.brand', 'crm_telecom.brand_view_list'),
    ]
# columns that must always show in full
KEY_COLUMNS = {
    'crm_telecom.customer_view_list': ['code', 'identity_code', 'region'],
    'crm_telecom.subscriber_view_list': ['number', 'region', 'state'],
    'crm_telecom.order_view_list': ['code', 'line_number', 'state'],
    }


def chinese():
    return Transaction().set_context(language='zh_CN')


@on_sqlite_only
class WordsTestCase(unittest.TestCase):
    "The operator's words in Chinese"

    @classmethod
    def setUpClass(cls):
        activate_in_chinese('crm_telecom', *CHINESE)

    def assertNoForbidden(self, words):
        self.assertTrue(words)
        self.assertEqual(forbidden_words(words), [])

    @with_transaction()
    def test_customer_screens(self):
        "The customer 360° form and list, and what they open, say 客户"
        with chinese():
            self.assertNoForbidden(view_words('party.party',
                    'crm_telecom.customer_view_form'))
            self.assertNoForbidden(view_words('party.party',
                    'crm_telecom.customer_view_list', 'tree'))
            # the identity and contacts tab, and the core party form
            for model in ['party.identifier', 'party.contact_mechanism',
                    'party.address']:
                self.assertNoForbidden(view_words(model, view_type='tree'))
                self.assertNoForbidden(view_words(model))
            self.assertNoForbidden(view_words('party.party',
                    'party.party_view_form'))
            fields = Pool().get('party.party').fields_get(
                ['identifiers', 'email', 'phone', 'mobile'])
            self.assertEqual(fields['identifiers']['string'], "证件")
            self.assertEqual(fields['email']['string'], "电子邮箱")

    @with_transaction()
    def test_subscriber_form(self):
        "The line form speaks of lines (用户) and numbers, not core terms"
        with chinese():
            self.assertNoForbidden(view_words('telecom.subscriber',
                    'crm_telecom.subscriber_view_form'))

    @with_transaction()
    def test_model_names(self):
        "A record opened from a link has a Chinese tab title"
        pool = Pool()
        Model = pool.get('ir.model')
        with chinese():
            names = {m: n for m, n in Model.get_names().items()
                if m in {'party.party', 'party.identifier',
                    'party.contact_mechanism', 'res.user',
                    'company.employee'}}
        self.assertEqual(names['party.party'], "客户")
        self.assertEqual(names['party.identifier'], "客户证件")
        self.assertEqual(names['res.user'], "操作员")
        for name in names.values():
            self.assertFalse(any(f in name for f in FORBIDDEN), name)

    @with_transaction()
    def test_menus_and_actions(self):
        "No menu or action name is English or a core term"
        pool = Pool()
        Menu = pool.get('ir.ui.menu')
        Action = pool.get('ir.action')
        with chinese():
            names = [m.name for m in Menu.search([])]
            names += [a.name for a in Action.search([])]
            menus = {m.id: m.name for m in Menu.search([])}
        bad = [n for n in names if any(f in n for f in FORBIDDEN)]
        self.assertEqual(bad, [])
        self.assertIn("客户资料", menus.values())
        self.assertIn("证件", menus.values())
        self.assertIn("操作员", menus.values())

    @with_transaction()
    def test_identifier_types(self):
        "The resident ID and the enterprise code have Chinese names"
        Identifier = Pool().get('party.identifier')
        with chinese():
            # the client asks the selection of its method
            self.assertEqual(
                Identifier.fields_get(['type'])['type']['selection'],
                'get_types')
            types = dict(Identifier.get_types())
        self.assertEqual(types['cn_ric'], "居民身份证")
        self.assertEqual(types['cn_vat'], "统一社会信用代码")

    @with_transaction()
    def test_history_by(self):
        "The history's 操作人 names the staff member or the system step"
        pool = Pool()
        Event = pool.get('telecom.subscriber.event')
        User = pool.get('res.user')
        admin, = User.search([('login', '=', 'admin')])
        staff = Event(-1, user=admin, step=None)
        network = Event(-2, user=None, step='network')
        with chinese():
            self.assertEqual(Event.get_actor([staff, network], 'actor'),
                {staff.id: admin.rec_name, network.id: "网络侧回执"})
            self.assertEqual(
                Event.fields_get(['actor'])['actor']['string'], "操作人")
        columns = [n for n, _, _ in list_columns('telecom.subscriber.event',
                'crm_telecom.subscriber_event_view_list')]
        self.assertIn('actor', columns)
        self.assertNotIn('user', columns)


@on_sqlite_only
class ListWidthsTestCase(unittest.TestCase):
    "The lists fit a 1366 px window beside the menu"

    @classmethod
    def setUpClass(cls):
        activate_in_chinese('crm_telecom', *CHINESE)

    @with_transaction()
    def test_lists_fit(self):
        "Every column shown has a width or takes the rest; together they fit"
        for model, xml_id in LISTS:
            with self.subTest(view=xml_id):
                for name, node, _ in list_columns(model, xml_id):
                    self.assertTrue(
                        node.get('width') or node.get('expand'), name)
                self.assertLessEqual(list_width(model, xml_id), LIST_BUDGET)

    @with_transaction()
    def test_identity_tab_lists_fit(self):
        "The identity tab shows identifiers and contacts side by side"
        for model, xml_id in [
                ('party.identifier', 'crm_telecom.identifier_view_list'),
                ('party.contact_mechanism',
                    'crm_telecom.contact_mechanism_view_list')]:
            with self.subTest(view=xml_id):
                self.assertLessEqual(
                    list_width(model, xml_id), LIST_BUDGET / 2)

    @with_transaction()
    def test_key_columns(self):
        "Numbers, IDs, regions and states have a width of their own"
        for xml_id, names in KEY_COLUMNS.items():
            model = dict((v, m) for m, v in LISTS)[xml_id]
            widths = {n: node.get('width')
                for n, node, _ in list_columns(model, xml_id)}
            for name in names:
                self.assertTrue(widths.get(name), (xml_id, name))

    @with_transaction()
    def test_totals_labelled(self):
        "A column with a total in the footer says so in its heading"
        with chinese():
            headings = sum_headings('telecom.account',
                'crm_telecom.account_view_list')
        self.assertEqual(headings, {'balance': "余额合计"})

    @with_transaction()
    def test_module_lists(self):
        "Every list of crm_telecom fits, shows its date-times, heads totals"
        with chinese():
            self.assertEqual(list_problems('crm_telecom'), [])

    @with_transaction()
    def test_module_views_words(self):
        "No view of crm_telecom shows English leftovers or core terms"
        with chinese():
            self.assertEqual(module_forbidden_words('crm_telecom'), [])
