"""What staff read on the screens, as the web client (sao 8.0) gets it: the
words of a view in the current language, and the width a list needs."""
import unittest

from lxml import etree

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME,
    activate_module,
    with_transaction,
)
from trytond.transaction import Transaction

from .tools import load_chinese

# the core modules whose words the suite's overrides rewrite, and the core
CHINESE = ['ir', 'res', 'country', 'currency', 'party', 'company', 'product',
    'crm_telecom']

# core words that are wrong for the operator (参与者: the core's party, 报告:
# a second word for 报表) and English the Chinese screens must not show
FORBIDDEN = ['Identifiers', 'Party', 'Email...', '参与者', '报告']

# the list area of a 1366 px wide window: the menu takes about 366 px, the
# selection and column-chooser columns 30 px each, scroll bar and borders 20
LIST_BUDGET = 1366 - 366 - 2 * 30 - 20

# sao's default column width in em by widget (src/view/tree.js,
# _set_column_width), one em being about 14 px in the Chinese client
SAO_EM = {
    'integer': 8, 'selection': 9, 'reference': 20, 'one2many': 5,
    'many2many': 5, 'boolean': 3, 'binary': 20,
    }
EM_PX = 14


# the words and widths of the screens do not depend on the database
on_sqlite_only = unittest.skipIf(backend.name != 'sqlite',
    "the screens' words and widths are checked on SQLite")


def activate_in_chinese(module, *modules):
    """Activate module, then load the zh_CN translations of modules (and
    their overrides) once for the test case: loading them takes seconds"""
    activate_module(module)
    with Transaction().start(DB_NAME, 0, close=True) as transaction:
        load_chinese(*modules, overrides=True)
        transaction.commit()


def view_id(xml_id):
    module, fs_id = xml_id.split('.')
    return Pool().get('ir.model.data').get_id(module, fs_id)


def view_words(model, xml_id=None, view_type='form'):
    """Every string of a view as the client gets it (labels, pages, buttons,
    field strings, helps and selection names), with where it comes from"""
    Model = Pool().get(model)
    view = Model.fields_view_get(
        view_id=view_id(xml_id) if xml_id else None, view_type=view_type)
    words = []
    for node in etree.fromstring(view['arch']).iter():
        for attr in ('string', 'help', 'confirm'):
            if node.get(attr):
                words.append(('%s/%s@%s' % (model, node.tag, attr),
                        node.get(attr)))
    for name, field in view['fields'].items():
        where = '%s.%s' % (model, name)
        for key in ('string', 'help'):
            if field.get(key):
                words.append((where, field[key]))
        if isinstance(field.get('selection'), list):
            words.extend((where, v) for _, v in field['selection'] if v)
    return words


def forbidden_words(words):
    return [(where, text) for where, text in words
        if any(f in text for f in FORBIDDEN)]


def list_columns(model, xml_id):
    """The columns a list shows at first (neither optional nor invisible):
    (name, px) with px the width sao gives it at least"""
    Model = Pool().get(model)
    view = Model.fields_view_get(view_id=view_id(xml_id), view_type='tree')
    columns = []
    for node in etree.fromstring(view['arch']):
        if node.tag not in {'field', 'button'}:
            continue
        if node.get('optional') == '1' or node.get('tree_invisible') == '1':
            continue
        name = node.get('name')
        if node.get('width'):
            px = int(node.get('width'))
        else:
            field = view['fields'].get(name, {})
            widget = node.get('widget') or field.get('type')
            em = SAO_EM.get(widget, 10) + (2 if field.get('symbol') else 0)
            expand = int(node.get('expand') or 0)
            if expand:
                em = em * (1 + expand) / expand
            px = em * EM_PX
        columns.append((name, node, px))
    return columns


def list_width(model, xml_id):
    return sum(px for _, _, px in list_columns(model, xml_id))


def sum_headings(model, xml_id):
    "The heading of each column that shows a total in the footer"
    Model = Pool().get(model)
    view = Model.fields_view_get(view_id=view_id(xml_id), view_type='tree')
    headings = {}
    for node in etree.fromstring(view['arch']):
        if node.tag == 'field' and node.get('sum') == '1':
            name = node.get('name')
            headings[name] = (node.get('string')
                or view['fields'][name]['string'])
    return headings


def module_lists(module):
    "(model, xml id) of every list view a module defines"
    return [(m, x) for m, x, t in module_views(module) if t == 'tree']


def module_views(module):
    """(model, xml id, type) of every view a module defines or extends (an
    extension stands for the view it extends)"""
    pool = Pool()
    View = pool.get('ir.ui.view')
    ModelData = pool.get('ir.model.data')
    lists = []
    for data in ModelData.search([
                ('module', '=', module), ('model', '=', 'ir.ui.view')]):
        view = View(data.db_id)
        if view.inherit:
            view = view.inherit
            data, = ModelData.search([
                    ('model', '=', 'ir.ui.view'), ('db_id', '=', view.id)])
        if view.type in {'tree', 'form'}:
            lists.append((view.model, '%s.%s' % (data.module, data.fs_id),
                    view.type))
    return sorted(set(lists))


def module_forbidden_words(module):
    "The forbidden words in the views of a module, in the current language"
    words = []
    for model, xml_id, type_ in module_views(module):
        words += view_words(model, xml_id, type_)
    return forbidden_words(words)


def list_problems(module, exempt=()):
    """What keeps a module's lists from reading well at 1366 px: a column
    without width that does not take the rest, lists wider than the
    window, a date-time without its date or time widget (sao cannot show
    it), a total whose heading does not say 合计"""
    problems = []
    for model, xml_id in module_lists(module):
        if xml_id in exempt:
            continue
        Model = Pool().get(model)
        view = Model.fields_view_get(
            view_id=view_id(xml_id), view_type='tree')
        for node in etree.fromstring(view['arch']):
            field = view['fields'].get(node.get('name'), {})
            if (node.tag == 'field' and field.get('type') == 'datetime'
                    and node.get('widget') not in {'date', 'time'}):
                problems.append((xml_id, node.get('name'), 'no widget'))
        for name, node, _ in list_columns(model, xml_id):
            if not (node.get('width') or node.get('expand')):
                problems.append((xml_id, name, 'no width'))
        width = list_width(model, xml_id)
        if width > LIST_BUDGET:
            problems.append((xml_id, int(width), 'too wide'))
        for name, heading in sum_headings(model, xml_id).items():
            if not heading.endswith('合计'):
                problems.append((xml_id, name, heading))
    return problems


@on_sqlite_only
class ModuleWordsMixin:
    """The words and lists of one module of the suite, for its test case:
    module, and depends (the suite's modules between crm_telecom and it);
    the tests read the screens in Chinese"""
    module = None
    depends = []

    @classmethod
    def setUpClass(cls):
        activate_in_chinese(cls.module, *CHINESE, *cls.depends, cls.module)

    @with_transaction()
    def test_views_words(self):
        "No view shows English leftovers or core terms, nor the 360° form"
        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(module_forbidden_words(self.module), [])
            self.assertEqual(forbidden_words(view_words('party.party',
                        'crm_telecom.customer_view_form')), [])

    @with_transaction()
    def test_lists(self):
        "Every list fits 1366 px, shows its date-times, heads its totals"
        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(list_problems(self.module), [])
