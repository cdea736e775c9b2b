"Fixtures shared by the crm_telecom tests"
import base64
import datetime as dt
import hashlib
import json
from decimal import Decimal
from unittest.mock import patch

from trytond.pool import Pool
from trytond.transaction import Transaction

from crm_telecom import identity

COMPANY = "中国移动通信集团广东有限公司"


def valid_id(sequence=1, born=dt.date(1990, 5, 17), region='440106'):
    return identity.make(region, born, sequence)


def setup_company(name=COMPANY):
    """The province company the tests work in, keeping its amounts in CNY,
    and the company of the test's user (so records default to it)"""
    pool = Pool()
    Company = pool.get('company.company')
    Currency = pool.get('currency.currency')
    Party = pool.get('party.party')
    User = pool.get('res.user')
    companies = Company.search([('party.name', '=', name)], limit=1)
    if companies:
        company, = companies
    else:
        currencies = Currency.search([('code', '=', 'CNY')], limit=1)
        if not currencies:
            currencies = Currency.create([{'name': "人民币", 'code': 'CNY',
                        'symbol': '¥', 'rounding': Decimal('0.01'),
                        'digits': 2}])
        party, = Party.create([{'name': name}])
        company, = Company.create([{'party': party.id,
                    'currency': currencies[0].id}])
    user = User(Transaction().user)
    if user.company != company:
        User.write([user], {
                'companies': [('add', [company.id])],
                'company': company.id,
                })
    return company


def create_staff(login, group, company=None, **values):
    """A staff user of a role (crm_telecom.group_*, or module.group_* of
    another module) in the test company (or company), working as an
    employee of it"""
    pool = Pool()
    User = pool.get('res.user')
    Employee = pool.get('company.employee')
    Party = pool.get('party.party')
    ModelData = pool.get('ir.model.data')
    module, _, group = group.rpartition('.')
    company = company or setup_company()
    party, = Party.create([{'name': values.get('name', login)}])
    employee, = Employee.create([{'party': party.id,
                'company': company.id}])
    user, = User.create([{'login': login,
                'groups': [('add', [
                            ModelData.get_id(module or 'crm_telecom', group)])],
                'companies': [('add', [company.id])],
                'company': company.id,
                'employees': [('add', [employee.id])],
                'employee': employee.id,
                **values}])
    return user


HONG_KONG = "中国移动香港有限公司"


def other_company(name=HONG_KONG):
    "A second province company, beside the test company"
    pool = Pool()
    Company = pool.get('company.company')
    Party = pool.get('party.party')
    companies = Company.search([('party.name', '=', name)], limit=1)
    if companies:
        return companies[0]
    party, = Party.create([{'name': name}])
    company, = Company.create([{'party': party.id,
                'currency': setup_company().currency.id}])
    return company


def setup_reference():
    "Regions, brands and products from the suite's reference data"
    from crm_telecom.tests.reference import load_reference
    setup_company()
    regions, brands, products = load_reference()
    return regions, brands, products


def create_customer(name="张三", code=None, sequence=1, **values):
    pool = Pool()
    Party = pool.get('party.party')
    values.setdefault('company', setup_company().id)
    identifiers = []
    if code is not False:
        identifiers = [('create', [{'type': identity.TYPE,
                            'code': code or valid_id(sequence)}])]
    party, = Party.create([{'name': name, 'identifiers': identifiers,
                **values}])
    return party


def _party_wizard(name, **ask):
    "Run party's replace or erase wizard, then read as a new request would"
    from trytond.transaction import Transaction
    Wizard = Pool().get(name, type='wizard')
    session_id, _, _ = Wizard.create()
    wizard = Wizard(session_id)
    for key, value in ask.items():
        setattr(wizard.ask, key, value)
    getattr(wizard, 'transition_%s' % name.split('.')[-1])()
    # the wizards update in SQL, behind the records' cache
    for cache in Transaction().cache.values():
        cache.clear()


def replace_party(source, destination):
    "Merge the duplicate source into destination"
    _party_wizard('party.replace', source=source, destination=destination)


def erase_party(party):
    _party_wizard('party.erase', party=party)


def create_account(payer, **values):
    Account = Pool().get('telecom.account')
    setup_company()
    account, = Account.create([{'payer': payer.id, **values}])
    return account


def create_numbers(*numbers):
    Number = Pool().get('telecom.number')
    setup_company()
    return Number.create([{'number': n} for n in numbers])


def activation(customer, number, brand, plan, account=None, **values):
    "A saved draft activation order (which reserves the number)"
    Order = Pool().get('telecom.order')
    account = account or create_account(customer)
    order, = Order.create([{'type': 'activate', 'customer': customer.id,
                'number': number.id, 'account': account.id,
                'brand': brand.id, 'plan': plan.id,
                'iccid': '89860000000000000001', **values}])
    return order


def network_waits(test):
    """Orders then wait in provisioning for the network's acknowledgement,
    as they do when crm_provisioning sends them to an endpoint"""
    Order = Pool().get('telecom.order')
    patcher = patch.object(Order, '_acknowledged_at_once',
        classmethod(lambda cls, orders: []))
    patcher.start()
    test.addCleanup(patcher.stop)


def order(type_, subscriber, **values):
    Order = Pool().get('telecom.order')
    order, = Order.create([{'type': type_,
                'customer': subscriber.customer.id,
                'subscriber': subscriber.id, **values}])
    return order


def create_bill(account, amount, due_date, period_start=None):
    """An issued bill and its movement on the account, as the bill run
    leaves them (amount owed, positive)"""
    from decimal import Decimal
    pool = Pool()
    Bill = pool.get('telecom.bill')
    Movement = pool.get('telecom.account.movement')
    amount = Decimal(amount)
    if period_start is None:
        period_start = (due_date - dt.timedelta(days=45)).replace(day=1)
    period_end = (period_start + dt.timedelta(days=32)).replace(day=1) \
        - dt.timedelta(days=1)
    bill, = Bill.create([{
                'account': account.id,
                'payer': account.payer.id,
                'period_start': period_start,
                'period_end': period_end,
                'date': period_end + dt.timedelta(days=1),
                'due_date': due_date,
                'amount': amount,
                }])
    Movement.post([{'account': account.id, 'kind': 'bill',
                'amount': -amount, 'origin': str(bill)}])
    return bill


def create_payment(account, amount, post=True, **values):
    "A payment (posted unless post=False)"
    from decimal import Decimal
    Payment = Pool().get('telecom.payment')
    payment, = Payment.create([{'account': account.id,
                'amount': Decimal(amount), **values}])
    if post:
        Payment.post([payment])
    return payment


# a billing cycle of 30 days and a date well before it
CYCLE = dt.date(2026, 11, 1)
BEFORE = dt.date(2026, 10, 1)


def at(day, hour=10, minute=0):
    "A moment in the CYCLE month"
    return dt.datetime(2026, 11, day, hour, minute)


def usage(subscriber, type_, start, duration=None, volume=None,
        roaming=False, charge=None):
    "Values of a usage record as the import writes it"
    units = {
        'voice': -(-(duration or 0) // 60),
        'sms': 1,
        'data': volume or 0,
        }[type_]
    key = hashlib.sha1(('%s|%s|%s|%s|%s|%s' % (subscriber.id, type_, start,
                duration, volume, roaming)).encode()).hexdigest()
    return {'subscriber': subscriber.id, 'type': type_, 'start': start,
        'duration': duration, 'volume': volume, 'roaming': roaming,
        'charge': charge, 'units': units, 'source_key': key}


def line_since(since, number='13800138000', plan="神州行 18元畅聊卡",
        customer=None, account=None):
    "An active line, activated through its order, on its plan since a date"
    pool = Pool()
    Order = pool.get('telecom.order')
    PlanPeriod = pool.get('telecom.subscriber.plan')
    regions, brands, products = setup_reference()
    customer = customer or create_customer(sequence=int(number[-3:]) + 1)
    number, = create_numbers(number)
    order = activation(customer, number, brands['SZX'], products[plan],
        account=account)
    Order.process([order])
    subscriber = order.subscriber
    PlanPeriod.write(list(subscriber.plan_periods), {'start_date': since})
    subscriber.activation_date = since
    subscriber.save()
    return subscriber


def xlsx_workbook(name, ids=(), data=None):
    "Run an Excel report: its workbook (openpyxl)"
    import io

    import openpyxl
    Report = Pool().get(name, type='report')
    ext, content, _, _ = Report.execute(list(ids), data or {})
    assert ext == 'xlsx', ext
    return openpyxl.load_workbook(io.BytesIO(content))


def xlsx_report(name, ids=(), data=None):
    "Run an Excel report: its sheet and its rows as tuples"
    sheet = xlsx_workbook(name, ids, data).active
    return sheet, list(sheet.iter_rows(values_only=True))


PASSWORD = 'secret-1234'


class RPCMixin:
    "JSON-RPC calls as the web client makes them, for a RouteTestCase"

    def login(self, client, login):
        response = client.post('/%s/rpc/' % self.db_name, json={
                'method': 'common.db.login',
                'params': [login, {'password': PASSWORD}, 'en'],
                'id': 1})
        user_id, session = json.loads(response.data)["result"][:2]
        token = base64.b64encode(
            ('%s:%s:%s' % (login, user_id, session)).encode()).decode()
        return {'Authorization': 'Session ' + token}

    def call(self, client, headers, method, *params):
        response = client.post('/%s/rpc/' % self.db_name, headers=headers,
            json={'method': method, 'params': [*params, {}], 'id': 1})
        self.assertEqual(response.status_code, 200, response.data)
        data = json.loads(response.data)
        if 'error' in data and data['error']:
            raise AssertionError(data['error'])
        return data['result']

    def call_error(self, client, headers, method, *params):
        response = client.post('/%s/rpc/' % self.db_name, headers=headers,
            json={'method': method, 'params': [*params, {}], 'id': 1})
        return json.loads(response.data)['error']


def load_chinese(*modules, overrides=False):
    """The modules' zh_CN translations, as a Chinese installation has them;
    with overrides, also their locale/override files, which rewrite other
    modules' strings: those modules are loaded first (as trytond-admin -l
    zh_CN does, in the order of the dependencies)"""
    import glob
    import os

    import polib

    from trytond.tools.misc import find_dir
    pool = Pool()
    Lang = pool.get('ir.lang')
    Translation = pool.get('ir.translation')
    chinese, = Lang.search([('code', '=', 'zh_CN')])
    Lang.write([chinese], {'translatable': True})

    def files(module):
        locale = find_dir(os.path.join(module, 'locale'))
        return ([os.path.join(locale, 'zh_CN.po')],
            glob.glob(os.path.join(locale, 'override', 'zh_CN.po'))
            if overrides else [])
    rewritten = []
    for module in modules:
        for path in files(module)[1]:
            for entry in polib.pofile(path):
                # msgctxt type:name:module.xml_id
                target = entry.msgctxt.split(':')[2].split('.')[0]
                if target not in modules and target not in rewritten:
                    rewritten.append(target)
    for module in rewritten + list(modules):
        own, override = files(module)
        Translation.translation_import('zh_CN', module, own + override)


def scenario_tests(name, path, loader, tests, pattern):
    """The module's scenario doctests (tests/scenario_*.rst), each on a new
    database: the unit test classes run before them in the same process
    leave theirs behind, which a doctest's activate_modules cannot restore
    over on PostgreSQL"""
    import unittest

    from trytond.tests.test_tryton import drop_db, load_doc_tests
    suite = load_doc_tests(name, path, loader, unittest.TestSuite(), pattern)
    for test in suite:
        def set_up(doc_test, set_up=test._dt_setUp):
            drop_db()
            set_up(doc_test)
        test._dt_setUp = set_up
    tests.addTests(suite)
    return tests


def first_tab_domain(module, action):
    "The domain of the tab a list action opens on (its first tab)"
    pool = Pool()
    ActWindow = pool.get('ir.action.act_window')
    ModelData = pool.get('ir.model.data')
    window = ActWindow(ModelData.get_id(module, action))
    tabs = sorted(window.act_window_domains, key=lambda d: d.sequence)
    return tabs[0].domain if tabs else None
