"""Load the demo data set into an activated database.

    python -m data.demo -c trytond.conf -d crm [--subscribers 400]

Reference data, a few hundred customers with valid resident IDs and their
accounts and lines (every line state), service orders in every state, and
one user per role. Run once on a new database. It loads with the outbox in
local mode and ends by pointing it at the endpoint simulator that bin/serve
starts (data/simulator.py, port 8099)."""
import argparse
import datetime as dt
import random
import sys

from .cli import open_database

# the provisioning/SMS endpoint simulator bin/serve starts (data/simulator.py)
SIMULATOR_URL = 'http://127.0.0.1:8099'
# headquarters and the province companies under it (name, key, parent key)
COMPANIES = [
    ("中国移动通信集团有限公司", 'hq', None),
    ("中国移动通信集团广东有限公司", 'gd', 'hq'),
    ("中国移动香港有限公司", 'hk', 'hq'),
    ]
# login, name, role group xml id (in crm_telecom unless it names its
# module), company key; every demo user's password is DEMO_PASSWORD;
# headquarters staff see every company
DEMO_PASSWORD = 'demo1234'
DEMO_USERS = [
    ('telecom_admin', "系统管理员", 'group_admin', 'hq'),
    ('clerk', "营业厅营业员", 'group_clerk', 'gd'),
    ('callcentre', "客服代表", 'group_call_centre', 'gd'),
    ('manager', "集团客户经理", 'group_account_manager', 'gd'),
    ('director', "政企客户总监", 'group_group_director', 'gd'),
    # crm_group_customer: a second account manager, and the approvers of
    # group tariffs at the province company and at headquarters
    ('manager2', "集团客户经理（金融）", 'group_account_manager', 'gd'),
    ('gd_approver', "省公司政企部审批",
        'crm_group_customer.group_province_approver', 'gd'),
    ('hq_approver', "总部政企部审批",
        'crm_group_customer.group_hq_approver', 'hq'),
    ('channel', "渠道经理", 'group_channel_manager', 'gd'),
    ('dealer', "代理商", 'group_agent', 'gd'),
    ('billing', "计费账务员", 'group_billing', 'gd'),
    ('analyst', "经营分析师", 'group_analyst', 'hq'),
    ('hk_clerk', "香港营业员", 'group_clerk', 'hk'),
    # crm_service: the hotline's supervisor and director, and the online
    # hall's agent, whose key the online hall and the app submit with
    ('supervisor', "客服班长", 'crm_service.group_service_supervisor', 'gd'),
    ('service_director', "客服总监", 'crm_service.group_service_supervisor',
        'gd'),
    ('online', "网上营业厅客服", 'group_call_centre', 'gd'),
    # also the user the network's acknowledgements come as (provisioning_key)
    ('network', "网络运维", 'crm_provisioning.group_network_operator', 'hq'),
    ]


def create_companies():
    """Headquarters, the Guangdong and the Hong Kong companies, keeping
    their amounts in yuan; returns them by key"""
    from decimal import Decimal

    from trytond.pool import Pool
    pool = Pool()
    Company = pool.get('company.company')
    Currency = pool.get('currency.currency')
    Party = pool.get('party.party')
    currencies = Currency.search([('code', '=', 'CNY')], limit=1)
    if currencies:
        cny, = currencies
    else:
        cny, = Currency.create([{'name': "人民币", 'code': 'CNY',
                    'symbol': '¥', 'rounding': Decimal('0.01'),
                    'digits': 2}])
    companies = {}
    existing = {c.party.name: c for c in Company.search([])}
    for name, key, parent in COMPANIES:
        company = existing.get(name)
        if not company:
            party, = Party.create([{'name': name}])
            company, = Company.create([{'party': party.id,
                        'currency': cny.id, 'timezone': 'Asia/Shanghai',
                        'parent': companies[parent].id if parent else None,
                        }])
        companies[key] = company
    return companies


def create_users(companies):
    """One user per role, each an employee of a company; headquarters
    users work in every company"""
    from trytond.pool import Pool
    pool = Pool()
    User = pool.get('res.user')
    Employee = pool.get('company.employee')
    Party = pool.get('party.party')
    ModelData = pool.get('ir.model.data')
    Lang = pool.get('ir.lang')
    langs = Lang.search([('code', '=', 'zh_CN')])
    existing = {u.login for u in User.search([])}
    everywhere = list(companies.values())
    users = []
    for login, name, group, key in DEMO_USERS:
        if login in existing:
            continue
        module, _, group = group.rpartition('.')
        try:
            group_id = ModelData.get_id(module or 'crm_telecom', group)
        except KeyError:
            continue  # a role of a module the database does not have
        company = companies[key]
        party, = Party.create([{'name': name}])
        employee, = Employee.create([{'party': party.id,
                    'company': company.id}])
        users.append(User(login=login, name=name, password=DEMO_PASSWORD,
                groups=[group_id],
                language=langs[0] if langs else None,
                companies=everywhere if key == 'hq' else [company],
                company=company, company_filter='all',
                employees=[employee], employee=employee))
    User.save(users)
    admin = User(ModelData.get_id('res', 'user_admin'))
    if langs:
        admin.language = langs[0]
    admin.companies = everywhere
    admin.company = companies['hq']
    admin.company_filter = 'all'
    admin.save()


def create_orders(rng):
    "Service orders in every state, on real lines"
    from trytond.pool import Pool

    from crm_telecom.iccid import make as make_iccid
    pool = Pool()
    Order = pool.get('telecom.order')
    Subscriber = pool.get('telecom.subscriber')
    Number = pool.get('telecom.number')
    Party = pool.get('party.party')
    Template = pool.get('product.template')
    Brand = pool.get('telecom.brand')

    active = Subscriber.search([('state', '=', 'active')], limit=40,
        order=[('id', 'ASC')])
    free = Number.search([('state', '=', 'available')], limit=6,
        order=[('id', 'ASC')])
    vas = Template.search([('telecom_type', 'in', ['vas', 'addon'])])
    szx, = Brand.search([('code', '=', 'SZX')])
    szx_plans = Template.search([('telecom_brand', '=', szx.id),
            ('telecom_type', '=', 'plan')])
    customers = Party.search([('blacklisted', '=', False),
            ('subscribers', '=', None), ('telecom_accounts', '!=', None)],
        limit=6)
    if not customers:
        customers = [s.customer for s in active[-6:]]

    def activation(number, customer, services=()):
        account = customer.telecom_accounts[0]
        return Order(type='activate', customer=customer, number=number,
            account=account, brand=szx, plan=szx_plans[0],
            services=services, iccid=make_iccid(number.id),
            reason="新入网")

    # done: services on some lines, a suspension and a resumption
    done = []
    for subscriber, service in zip(active[:12], vas * 3):
        done.append(Order(type='add_service', customer=subscriber.customer,
                subscriber=subscriber, service=service, reason="客户申请"))
    Order.save(done)
    Order.process(done)
    suspend = Order(type='suspend', customer=active[12].customer,
        subscriber=active[12], suspension_reason='loss', reason="手机丢失")
    suspend.save()
    Order.process([suspend])
    resume = Order(type='resume', customer=active[12].customer,
        subscriber=active[12], reason="找回手机")
    resume.save()
    Order.process([resume])
    # a done activation with its services and the other states
    new_lines = [activation(n, c) for n, c in zip(free[:4], customers[:4])]
    new_lines[0].services = [s for s in vas
        if not s.telecom_brand or s.telecom_brand == szx][:2]
    Order.save(new_lines)
    Order.process(new_lines[:1])
    Order.cancel(new_lines[1:2])
    # new_lines[3] stays a draft holding its reserved number
    change = Order(type='change_plan', customer=active[13].customer,
        subscriber=active[13], reason="升级套餐",
        plan=[p for p in Template.search([('telecom_type', '=', 'plan'),
                    ('telecom_brand', '=', active[13].brand.id)])
            if p != active[13].plan][0])
    change.save()
    provisioning = Order(type='suspend', customer=active[14].customer,
        subscriber=active[14], suspension_reason='customer_request',
        reason="出国停机保号")
    provisioning.save()
    # submitted once the outbox goes to the simulator (use_simulator)
    return {'failed': new_lines[2], 'provisioning': [change, provisioning]}


def blacklist(rng):
    from trytond.pool import Pool
    Party = Pool().get('party.party')
    parties = Party.search([], order=[('id', 'DESC')], limit=3)
    Party.write(parties, {'blacklisted': True,
            'blacklist_reason': "恶意欠费，多次催缴未果"})


def ensure_configuration():
    """Create the telecom configuration record if it is missing: creating a
    singleton locks its table, which only a transaction started with that
    lock may do. Call before any write (SQLite: one writer at a time)."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Configuration = Pool().get('telecom.configuration')
    if Configuration.get_singleton():
        return
    with Transaction().new_transaction(
            _lock_tables=[Configuration._table]) as transaction:
        Pool().get('telecom.configuration').create([{}])
        transaction.commit()


def use_simulator(orders=None):
    """The outbox sends to the local simulator (bin/serve runs it and the
    queue's worker): orders submitted from now on wait for its answer."""
    from trytond.pool import Pool
    pool = Pool()
    Configuration = pool.get('telecom.configuration')
    Order = pool.get('telecom.order')
    configuration = Configuration(1)
    configuration.provisioning_url = SIMULATOR_URL + '/provision'
    configuration.sms_url = SIMULATOR_URL + '/sms'
    configuration.save()
    if orders:
        # requests the worker sends once the server runs, and one an
        # operator failed by hand (its request is then not sent)
        # (a line the dunning suspended since for arrears takes no change
        # of plan: its order stays a draft)
        Order.submit([o for o in orders['provisioning']
                if o.subscriber.state == 'active'] + [orders['failed']])
        Order.fail([orders['failed']], reason="网络侧开户超时")


def provisioning_key():
    "The key the network (the simulator) acknowledges requests with"
    return application_key('network', "网络侧回调", 'crm_telecom_provisioning')


def inbound_key():
    """The key the online hall and the app submit service requests and
    survey answers with (crm_service), as the online desk agent"""
    return application_key('online', "网上营业厅客服", 'crm_service_inbound')


def application_key(login, name, application_name):
    "A validated key of a user application, for the user of login"
    from trytond.pool import Pool
    from trytond.transaction import inactive_records
    pool = Pool()
    User = pool.get('res.user')
    Application = pool.get('res.user.application')
    with inactive_records():
        users = User.search([('login', '=', login)])
    if users:
        user, = users
    else:
        user = User(login=login, name=name)
        user.save()
    applications = Application.search([
            ('user', '=', user.id),
            ('application', '=', application_name),
            ('state', '=', 'validated'),
            ], limit=1)
    if applications:
        application, = applications
    else:
        application = Application(user=user,
            application=application_name, state='validated')
        application.save()
    return application.key


def create_billing(rng, today=None):
    """A month of usage from the switches, the bill runs of the cycles that
    ended in the last month, payments for most bills, adjustments, and the
    dunning of the rest: some accounts reminded, some lines suspended."""
    from dateutil.relativedelta import relativedelta

    from trytond.pool import Pool

    from crm_billing.tests.usage_csv import csv_bytes, generate_rows
    pool = Pool()
    Subscriber = pool.get('telecom.subscriber')
    Import = pool.get('telecom.usage.import')
    BillRun = pool.get('telecom.bill.run')
    Bill = pool.get('telecom.bill')
    Payment = pool.get('telecom.payment')
    Account = pool.get('telecom.account')
    Adjustment = pool.get('telecom.bill.adjustment')
    today = today or pool.get('ir.date').today()
    start = today - relativedelta(months=2)
    end = today - dt.timedelta(days=1)

    lines = Subscriber.search([
            ('state', 'in', ['active', 'suspended']),
            ('activation_date', '<=', start),
            ])
    numbers = [l.number.number for l in lines]
    if numbers:
        data = csv_bytes(generate_rows(numbers, start, end, 8000,
                seed=rng.randrange(1000)), chinese=True)
        usage_file = Import(name='CDR_%s.csv' % end.strftime('%Y%m%d'),
            file=data)
        usage_file.save()
        Import.process([usage_file], commit=False)

    # prepaid customers topped up before the month began
    top_ups = [Payment(account=a, amount=rng.choice([50, 100, 100, 200]),
            channel=rng.choice(['business_hall', 'app', 'agent']),
            method=rng.choice(['cash', 'wechat', 'alipay', 'voucher']))
        for a in Account.search([('payment_type', '=', 'prepaid')])]
    Payment.save(top_ups)
    Payment.post(top_ups)

    # every cycle that ended in the last month, as the daily cron does
    for days in range(31, 0, -1):
        date = today - dt.timedelta(days=days - 1)
        if date.day <= 28:
            BillRun.run_due(date=date, commit=False)
    # the demo's bills were issued when their cycle ended
    for bill in Bill.search([('date', '=', today)]):
        issued = bill.period_end + dt.timedelta(days=1)
        bill.date = issued
        bill.due_date = issued + dt.timedelta(days=15)
    Bill.save(Bill.search([]))

    payments = []
    for account in Account.search([('balance', '<', 0)]):
        if rng.random() < 0.85:
            payments.append(Payment(account=account,
                    amount=-account.balance,
                    channel=rng.choice(['business_hall', 'app', 'online',
                            'bank', 'agent']),
                    method=rng.choice(['cash', 'wechat', 'alipay',
                            'bank_card'])))
    Payment.save(payments)
    Payment.post(payments)

    accounts = Account.search([('subscribers', '!=', None)], limit=2)
    if len(accounts) == 2:
        adjustments = Adjustment.create([
                {'account': accounts[0].id, 'amount': -10,
                    'reason': "网络故障补偿：10月3日基站中断4小时"},
                {'account': accounts[1].id, 'amount': -260,
                    'reason': "国际漫游误计费，客户投诉核实后退还"},
                ])
        Adjustment.confirm(adjustments)
    Account.run_dunning(date=today)


def _activated():
    "The modules activated in the database"
    from trytond.pool import Pool
    Module = Pool().get('ir.module')
    return {m.name for m in Module.search([('state', '=', 'activated')])}


def finish_setup():
    "Leave the instance configured: no set-up wizard at first login"
    from trytond.pool import Pool
    Item = Pool().get('ir.module.config_wizard.item')
    Item.write(Item.search([]), {'state': 'done'})


def load(subscribers=400, seed=2026):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from crm_telecom.tests.reference import load_reference

    from .bulk import generate
    rng = random.Random(seed)
    ensure_configuration()
    companies = create_companies()
    Party = Pool().get('party.party')
    counts, orders = {}, None
    # the Guangdong company's customers and lines; a few in Hong Kong
    with Transaction().set_context(company=companies['gd'].id):
        load_reference()
        if not Party.search([('subscribers', '!=', None)], limit=1):
            counts = generate(subscribers, seed=seed)
            blacklist(rng)
            orders = create_orders(rng)
            # the group customers' members and tariffs are billed by the
            # bill runs: their account managers first
            create_users(companies)
            if 'crm_group_customer' in _activated():
                from .group_demo import create_group_customers
                counts.update(create_group_customers(companies, rng))
            # channels, dealers and their outlets' lines, billed too
            if 'crm_channel' in _activated():
                from .channel_demo import create_channel_demo
                counts.update(create_channel_demo(companies))
            create_billing(rng)
            # the dealers' commissions of the months billed
            if 'crm_channel' in _activated():
                from .channel_demo import create_settlements
                counts.update(create_settlements(companies))
            if 'crm_group_customer' in _activated():
                from .group_demo import set_value_levels
                set_value_levels()
            with Transaction().set_context(company=companies['hk'].id):
                for table, count in generate(
                        max(subscribers // 20, 5), seed=seed + 1).items():
                    counts[table] = counts.get(table, 0) + count
    create_users(companies)
    if 'crm_service' in _activated():
        from .service_demo import create_service
        counts.update(create_service(companies))
    finish_setup()
    use_simulator(orders)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', default='trytond.conf')
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--subscribers', type=int, default=400)
    parser.add_argument('--ack-key', action='store_true',
        help="only print the key the simulator acknowledges requests with")
    parser.add_argument('--inbound-key', action='store_true',
        help="only print the key the online hall and the app submit "
        "service requests with (crm_service)")
    args = parser.parse_args(argv)
    if args.ack_key or args.inbound_key:
        with open_database(args.config, args.database) as transaction:
            key = provisioning_key() if args.ack_key else inbound_key()
            transaction.commit()
        print(key)
        return
    # first, on its own: on PostgreSQL a transaction does not see records
    # committed after it started
    with open_database(args.config, args.database):
        ensure_configuration()
    with open_database(args.config, args.database) as transaction:
        counts = load(args.subscribers)
        transaction.commit()
    for table, count in counts.items():
        print('%-22s %d' % (table, count))
    print("demo data loaded; users: %s (password %s)" % (
            ', '.join(u[0] for u in DEMO_USERS), DEMO_PASSWORD))


if __name__ == '__main__':
    sys.exit(main())
