"""The suite's actions open one tab each: a related-records action shows the
records of the one it starts from, a double-click in a list opens the form,
and each menu entry has its own action.

sao (Sao.Tab.create / Tab.Form.compare) only reuses an open tab with the
same action while that tab shows its list: an action that always opens the
same whole list opens it again in a second tab once the first shows a
record."""
import unittest
from collections import Counter

from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction


def suite_records(model):
    "The records of model defined in the XML of the suite's modules"
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    Model = pool.get(model)
    data = ModelData.search([
            ('module', 'like', 'crm_%'),
            ('model', '=', model),
            ])
    return Model.browse([d.db_id for d in data])


def act_window(action):
    ActWindow = Pool().get('ir.action.act_window')
    windows = ActWindow.search([('action', '=', action.id)])
    return windows[0] if windows else None


class ActionsTestCase(unittest.TestCase):
    "Keywords, relate actions and menu entries of the suite"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_telecom')

    @with_transaction()
    def test_relate_actions_follow_the_record(self):
        "A related-records action is limited to the records it starts from"
        for keyword in suite_records('ir.action.keyword'):
            if keyword.keyword not in {'form_relate', 'tree_open'}:
                continue
            window = act_window(keyword.action)
            if window:
                self.assertIn('active_id', window.domain or '',
                    '%s opens every %s' % (window.name, window.res_model))

    @with_transaction()
    def test_double_click_opens_the_form(self):
        "No list opens another action on a double-click (tree_open)"
        for keyword in suite_records('ir.action.keyword'):
            if keyword.keyword == 'tree_open':
                self.assertTrue(keyword.model.startswith('ir.ui.menu,'),
                    keyword.model)

    @with_transaction()
    def test_one_action_per_menu_entry(self):
        "A menu's action is neither another menu's nor a keyword's"
        Keyword = Pool().get('ir.action.keyword')
        menus = suite_records('ir.ui.menu')
        opened = Keyword.search([
                ('keyword', '=', 'tree_open'),
                ('model', 'in', ['ir.ui.menu,%s' % m.id for m in menus]),
                ])
        counts = Counter(k.action.id for k in opened)
        self.assertEqual([a for a, n in counts.items() if n > 1], [])
        bound = Keyword.search([
                ('action', 'in', list(counts)),
                ('keyword', '!=', 'tree_open'),
                ])
        self.assertEqual([(k.keyword, k.model, k.action.name)
                for k in bound if act_window(k.action)], [])

    @with_transaction()
    def test_no_vat_check_for_staff(self):
        "The customer form's actions offer staff no European VAT check"
        from trytond.transaction import Transaction, check_access

        from crm_telecom.tests.tools import create_staff
        Keyword = Pool().get('ir.action.keyword')
        clerk = create_staff('clerk', 'group_clerk')
        with Transaction().set_user(clerk.id), check_access():
            actions = Keyword.get_keyword('form_action', ('party.party', -1))
        names = {a.get('wiz_name') for a in actions}
        self.assertNotIn('party.check_vies', names)
        self.assertIn('telecom.order.entry', names)
