"""The channel demo (crm_channel): the Guangdong company's channels of
every kind (two business halls, the 10086 hotline, the online and SMS
halls, the app, two banks and the post office) under the demo's channel
manager; two dealers with their contracts, deposits, bank accounts and two
outlets each; numbers of the pool allocated to the outlets, and a dozen
lines activated there on several plans (backdated, so that the demo's bill
runs bill them), every other one with an advance payment taken at its
outlet. The demo
user `dealer` acts for the first dealer. The demo's earlier orders get the
hall or remote channel they would have come through. Each dealer has a
commission plan (one-off amounts, revenue share, instalments, a volume
tier, a service bonus, clawback days) paid through the company's
commission accounts, and the star rules rate them.

create_channel_demo is called by data/demo.py once the demo users exist
and before the bill runs; create_settlements after them (the revenue share
needs the paid bills): three monthly settlement periods, the first paid by
supplier invoices and closed, the second confirmed (the second dealer's
held by a risk flag), the current one a preview with the clawback of a
line terminated today; the dealers' scorecards of the months. Both when
crm_channel is activated, in the Guangdong company."""
import datetime as dt
from decimal import Decimal as D

# code, name, kind, region code, address
CHANNELS = [
    ('GD-GZ-TH-001', "天河营业厅", 'business_hall', '440106',
        "广州市天河区天河路208号"),
    ('GD-GZ-YX-001', "越秀营业厅", 'business_hall', '440104',
        "广州市越秀区中山五路68号"),
    ('10086', "10086客服热线", 'call_centre', '440000', None),
    ('GD-ONLINE', "网上营业厅", 'online', '440000', None),
    ('GD-SMS', "短信营业厅", 'sms_hall', '440000', None),
    ('GD-APP', "中国移动App", 'app', '440000', None),
    ('GD-BANK-ICBC', "工商银行代收点", 'bank', '440100',
        "广州市天河区天河路123号"),
    ('GD-BANK-CCB', "建设银行代收点", 'bank', '440600',
        "佛山市禅城区汾江中路45号"),
    ('GD-POST-GZ', "中国邮政广州代办点", 'post_office', '440100',
        "广州市越秀区解放南路2号"),
    ]
# code, name, region code, deposit, bank, bank account,
# outlets (name, region code, address)
DEALERS = [
    ('GD-DL-0001', "广州迅达通讯器材有限公司", '440100', '50000.00',
        "中国工商银行广州天河支行", '6222020200112345678', [
            ("迅达通讯天河北店", '440106', "广州市天河区天河北路233号"),
            ("迅达通讯北京路店", '440104', "广州市越秀区北京路188号"),
            ]),
    ('GD-DL-0002', "佛山恒通数码科技有限公司", '440600', '30000.00',
        "中国建设银行佛山禅城支行", '6217003320004567890', [
            ("恒通数码祖庙店", '440604', "佛山市禅城区祖庙路19号"),
            ("恒通数码大良店", '440606', "佛山市顺德区大良清晖路88号"),
            ]),
    ]
# the dealer the demo user `dealer` acts for
DEALER_LOGIN = 'dealer'
# numbers of the pool each outlet holds, of which it activates SALES
STOCK = 6
SALES = 3
# plans the outlets sell (in turn), with the age of their customers
PLANS = [
    ("神州行 18元畅聊卡", 'SZX', 34),
    ("动感地带 29元潮玩卡", 'MZONE', 22),
    ("全球通 88元套餐", 'GOTONE', 41),
    ("神州行 38元家园卡", 'SZX', 52),
    ("全球通 128元套餐", 'GOTONE', 38),
    ("动感地带 29元潮玩卡", 'MZONE', 24),
    ]
CUSTOMERS = ["陈志强", "李晓燕", "黄伟明", "梁淑芬", "何家豪", "罗美玲",
    "郭建华", "林佩珊", "吴国荣", "邓丽君", "冯子健", "曾雅婷"]
# name, clawback days, rules (kind, plan or service name, amount, rate,
# months, minimum activations)
COMMISSION_PLANS = [
    ("2026年社会渠道酬金（标准）", 90, [
        ('one_off', "全球通 128元套餐", '120', None, None, None),
        ('one_off', None, '50', None, None, None),
        ('revenue_share', None, None, '5', 6, None),
        ('instalment', None, '10', None, 6, None),
        ('vas_bonus', None, '15', None, None, None),
        ('volume_tier', None, '20', None, None, 5),
        ]),
    ("2026年社会渠道酬金（基础）", 60, [
        ('one_off', None, '40', None, None, None),
        ('revenue_share', None, None, '3', 3, None),
        ('volume_tier', None, '10', None, None, 10),
        ]),
    ]
# stars, minimum activations, minimum share active after 90 days, maximum
# share without usage, maximum complaints per 100 activations
STAR_RULES = [
    ('5', 30, '95', '5', '1'),
    ('4', 10, '90', '10', '3'),
    ('3', 3, '80', '20', None),
    ('2', None, None, None, None),
    ]
# the company's accounts for the dealers' commissions: type, code, name
COMMISSION_ACCOUNTS = [
    ('expense', '6601.08', "销售费用—代理商酬金"),
    ('payable', '2202.05', "应付账款—代理商酬金"),
    ]

# the remote order types come through the hotline, the app and the
# online hall; the others at the business halls
REMOTE_TYPES = {'change_plan', 'add_service', 'remove_service', 'suspend',
    'resume'}


def create_commission_accounts(company):
    """The expense and payable accounts the dealers' supplier invoices
    post to, the payable as the company's default; returns the expense"""
    from trytond.pool import Pool
    pool = Pool()
    AccountType = pool.get('account.account.type')
    Account = pool.get('account.account')
    DefaultAccount = pool.get('account.configuration.default_account')
    accounts = {a.code: a for a in Account.search(
            [('company', '=', company.id)])}
    statements = {'expense': ('income', "费用"), 'payable': (
            'balance', "负债")}
    created = {}
    for kind, code, name in COMMISSION_ACCOUNTS:
        account = accounts.get(code)
        if not account:
            statement, type_name = statements[kind]
            type_ = AccountType(name=type_name, company=company,
                statement=statement, **{kind: True})
            type_.save()
            account = Account(code=code, name=name, type=type_,
                company=company, reconcile=kind == 'payable',
                party_required=kind == 'payable')
            account.save()
        created[kind] = account
    # the company's value of the account configuration (a singleton,
    # which the demo's transaction may not create)
    if not DefaultAccount.search([('company', '=', company.id)]):
        DefaultAccount.create([{'company': company.id,
                    'default_account_payable': created['payable'].id}])
    return created['expense']


def create_commission_plans(company, dealers):
    """The commission product (on the commission expense account), the
    plans and their rules, one plan per dealer, and the star rules"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Plan = pool.get('commission.plan')
    Agent = pool.get('commission.agent')
    Template = pool.get('product.template')
    Category = pool.get('product.category')
    StarRule = pool.get('telecom.dealer.star_rule')
    ModelData = pool.get('ir.model.data')
    if Plan.search([('telecom_rules', '!=', None)], limit=1):
        return []
    expense = create_commission_accounts(company)
    with Transaction().set_context(company=company.id):
        category = Category(name="代理商酬金", accounting=True,
            account_expense=expense)
        category.save()
    template = Template(name="代理商酬金", type='service',
        default_uom=ModelData.get_id('product', 'uom_unit'),
        account_category=category, products=[{}])
    template.save()
    product, = template.products
    products = {t.name: t for t in Template.search(
            [('telecom_type', 'in', ['plan', 'vas', 'addon'])])}
    plans = []
    for name, clawback_days, rules in COMMISSION_PLANS:
        plans.append(Plan(name=name, commission_product=product,
                clawback_days=clawback_days, telecom_rules=[{
                        'sequence': sequence, 'kind': kind,
                        'product': products[plan].id if plan else None,
                        'amount': D(amount) if amount else None,
                        'rate': D(rate) if rate else None,
                        'months': months, 'min_activations': minimum,
                        }
                    for sequence, (kind, plan, amount, rate, months,
                        minimum) in enumerate(rules, 1)]))
    Plan.save(plans)
    for dealer, plan in zip(dealers, plans):
        dealer.plan = plan
    Agent.save(dealers)
    StarRule.save([StarRule(sequence=n, stars=stars,
                min_activations=activations,
                min_active_share=D(active) if active else None,
                max_no_usage_share=D(no_usage) if no_usage else None,
                max_complaints=D(complaints) if complaints else None)
            for n, (stars, activations, active, no_usage, complaints)
            in enumerate(STAR_RULES, 1)])
    return plans


def create_channels(company, regions, manager):
    "The company's own channels; returns them by code"
    from trytond.pool import Pool
    Channel = Pool().get('telecom.channel')
    existing = {c.code: c for c in Channel.search(
            [('company', '=', company.id)])}
    missing = [Channel(code=code, name=name, kind=kind, company=company,
            region=regions.get(region), address=address, manager=manager)
        for code, name, kind, region, address in CHANNELS
        if code not in existing]
    Channel.save(missing)
    existing.update((c.code, c) for c in missing)
    return existing


def contract_dates(today, index):
    """Contracts signed on the 1st of March some years back and running
    to the end of February (the 28th: no 29 February in any year)"""
    start = dt.date(today.year - 2 + index, 3, 1)
    if start > today:
        start = dt.date(start.year - 1, 3, 1)
    return start, dt.date(start.year + 3, 2, 28)


def create_dealers(company, regions, manager, today):
    "The dealers with their outlets; returns the dealers"
    from trytond.pool import Pool
    pool = Pool()
    Agent = pool.get('commission.agent')
    Party = pool.get('party.party')
    Channel = pool.get('telecom.channel')
    existing = {a.dealer_code: a for a in Agent.search(
            [('company', '=', company.id), ('dealer_code', '!=', None)])}
    dealers = []
    for index, (code, name, region, deposit, bank, bank_account,
            outlets) in enumerate(DEALERS):
        dealer = existing.get(code)
        if not dealer:
            start, end = contract_dates(today, index)
            # the registered address the supplier invoices go to
            party, = Party.create([{'name': name, 'addresses': [
                            ('create', [{'street': outlets[0][2]}])]}])
            dealer = Agent(party=party, company=company,
                currency=company.currency, type_='agent', dealer_code=code,
                region=regions.get(region),
                contract_number='GDQD-%s-%03d' % (start.year, index + 1),
                contract_start=start, contract_end=end, deposit=D(deposit),
                bank_name=bank, bank_account=bank_account,
                star_rating=['4', '3'][index % 2])
            dealer.save()
            Channel.save([Channel(code='%s-%02d' % (code, n + 1),
                        name=outlet, kind='outlet', company=company,
                        region=regions.get(outlet_region), address=address,
                        manager=manager, dealer=dealer)
                    for n, (outlet, outlet_region, address)
                    in enumerate(outlets)])
        dealers.append(dealer)
    return dealers


def pool_numbers(company, count):
    """Available numbers of the pool no outlet holds, the last ones first;
    numbers are added to the pool when it has too few"""
    from trytond.pool import Pool
    Number = Pool().get('telecom.number')
    numbers = Number.search([
            ('company', '=', company.id),
            ('state', '=', 'available'),
            ('outlet', '=', None),
            ], order=[('id', 'DESC')], limit=count)
    if len(numbers) < count:
        taken = {n.number for n in Number.search(
                [('number', 'like', '1478820%')])}
        new = ['1478820%04d' % i for i in range(10000)
            if '1478820%04d' % i not in taken][:count - len(numbers)]
        numbers += Number.create([{'number': n, 'company': company.id}
                for n in new])
    return numbers


def new_customer(name, region, age, sequence, company, today):
    "A customer with a valid resident ID of the region, of about age"
    from trytond.pool import Pool

    from crm_telecom import identity
    pool = Pool()
    Party = pool.get('party.party')
    Identifier = pool.get('party.identifier')
    # born on the 15th, some months back: a real date in every year
    born = dt.date(today.year - age - 1, 1 + sequence % 12, 15)
    # the birth place is a code in use in the year of birth (a district
    # may be younger than its customer): else its city's
    places = [region.code] + ([region.parent.code] if region.parent else [])
    place = next((p for p in places
            if identity.is_valid(identity.make(p, born, 900))), '440100')
    for n in range(900, 1000):
        code = identity.make(place, born, n)
        if not Identifier.search([('code', '=', code)], limit=1):
            break
    party, = Party.create([{'name': name, 'company': company.id,
                'region': region.id,
                'identifiers': [('create', [{'type': identity.TYPE,
                                'code': code}])],
                }])
    return party


def sell_lines(outlets, regions, company, today):
    """Allocate pool numbers to the outlets and activate lines there;
    returns the lines"""
    from trytond.pool import Pool

    from crm_telecom.iccid import make as make_iccid
    from crm_telecom.tests.tools import usage
    pool = Pool()
    Usage = pool.get('telecom.usage')
    Number = pool.get('telecom.number')
    Order = pool.get('telecom.order')
    Account = pool.get('telecom.account')
    Brand = pool.get('telecom.brand')
    Template = pool.get('product.template')
    PlanPeriod = pool.get('telecom.subscriber.plan')
    Subscriber = pool.get('telecom.subscriber')
    Payment = pool.get('telecom.payment')
    brands = {b.code: b for b in Brand.search([])}
    plans = {t.name: t for t in Template.search(
            [('telecom_type', '=', 'plan')])}
    numbers = pool_numbers(company, STOCK * len(outlets))
    orders, sequence = [], 0
    for index, outlet in enumerate(outlets):
        stock = numbers[index * STOCK:(index + 1) * STOCK]
        Number.allocate(stock, outlet)
        for number in stock[:SALES]:
            plan, brand, age = PLANS[sequence % len(PLANS)]
            customer = new_customer(CUSTOMERS[sequence % len(CUSTOMERS)],
                outlet.region or regions['440106'], age, sequence, company,
                today)
            # postpaid, and activated in the last two months: the demo's
            # top-ups, usage and payments, drawn at random before the
            # bill runs, stay those of the other accounts
            account = Account(payer=customer, payment_type='postpaid',
                credit_limit=D(300 if brand == 'GOTONE' else 100),
                bill_cycle_day=1 if sequence % 4 else 15)
            account.save()
            orders.append(Order(type='activate', customer=customer,
                    number=number, account=account, brand=brands[brand],
                    plan=plans[plan], channel=outlet, reason="网点开户",
                    iccid=make_iccid(int(number.number) * 100 + 7)))
            sequence += 1
    Order.save(orders)
    Order.process(orders)
    lines = [o.subscriber for o in Order.browse([o.id for o in orders])
        if o.subscriber]
    # sold 32 to 54 days ago: within a cycle that ended in the last month
    # (billed by the demo's bill runs), after the start of the demo's
    # usage (data/demo.py create_billing)
    for n, line in enumerate(lines):
        since = today - dt.timedelta(days=32 + 2 * n)
        PlanPeriod.write(list(line.plan_periods), {'start_date': since})
        line.activation_date = since
    Subscriber.save(lines)
    # most lines used in their first days (the scorecards count the
    # ones that were not): a call, then mobile data
    Usage.create([{**usage(line, 'voice',
                    dt.datetime.combine(line.activation_date,
                        dt.time(10, 12)) + dt.timedelta(days=1), 185)}
            for n, line in enumerate(lines) if n % 6 != 5]
        + [{**usage(line, 'data', dt.datetime.combine(line.activation_date,
                        dt.time(20, 40)) + dt.timedelta(days=4),
                    volume=350)}
            for n, line in enumerate(lines) if n % 6 != 5])
    # an advance payment taken at the outlet, on every other line
    advances = [Payment(account=l.account, amount=D(100), method='cash',
            outlet=l.channel)
        for l in lines[::2]]
    Payment.save(advances)
    Payment.post(advances)
    return lines


def set_order_channels(channels):
    """The demo's earlier orders: remote types through the hotline, the
    app and the online hall, the others at the two business halls"""
    from trytond.pool import Pool
    Order = Pool().get('telecom.order')
    remote = [channels['10086'], channels['GD-APP'], channels['GD-ONLINE']]
    halls = [channels['GD-GZ-TH-001'], channels['GD-GZ-YX-001']]
    company = halls[0].company
    by_channel = {}
    for order in Order.search([('company', '=', company.id),
                ('channel', '=', None)], order=[('id', 'ASC')]):
        if order.type in REMOTE_TYPES:
            channel = remote[order.id % len(remote)]
        else:
            channel = halls[order.id % len(halls)]
        by_channel.setdefault(channel, []).append(order)
    for channel, orders in by_channel.items():
        Order.write(orders, {'channel': channel.id})
    return sum(len(o) for o in by_channel.values())


def create_channel_demo(companies, today=None):
    "The channel demo in the Guangdong company; returns the counts"
    from trytond.pool import Pool
    pool = Pool()
    User = pool.get('res.user')
    Region = pool.get('telecom.region')
    today = today or pool.get('ir.date').today()
    company = companies['gd']
    regions = {r.code: r for r in Region.search([])}
    users = {u.login: u for u in User.search(
            [('login', 'in', ['channel', DEALER_LOGIN])])}
    manager = users['channel'].employee if 'channel' in users else None
    channels = create_channels(company, regions, manager)
    dealers = create_dealers(company, regions, manager, today)
    outlets = [o for d in dealers for o in d.outlets]
    counts = {
        'telecom_channel': len(channels) + len(outlets),
        'commission_agent': len(dealers),
        }
    if DEALER_LOGIN in users and not users[DEALER_LOGIN].dealer:
        User.write([users[DEALER_LOGIN]], {'dealer': dealers[0].id})
    if not any(o.numbers for o in outlets):
        counts['channel_orders'] = set_order_channels(channels)
        counts['outlet_lines'] = len(
            sell_lines(outlets, regions, company, today))
    counts['commission_plan'] = len(
        create_commission_plans(company, dealers))
    return counts


def create_settlements(companies, today=None):
    """The settlement periods of the last two months and this one, their
    settlements in every state, a risk flag holding the second dealer's,
    a clawback and the scorecards; returns the counts"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from crm_channel.scorecard import month_start, next_month
    pool = Pool()
    User = pool.get('res.user')
    Agent = pool.get('commission.agent')
    Period = pool.get('telecom.commission.period')
    Settlement = pool.get('telecom.commission.settlement')
    Flag = pool.get('telecom.dealer.risk_flag')
    Scorecard = pool.get('telecom.dealer.scorecard')
    Order = pool.get('telecom.order')
    Subscriber = pool.get('telecom.subscriber')
    today = today or pool.get('ir.date').today()
    company = companies['gd']
    if Period.search([('company', '=', company.id)], limit=1):
        return {}
    dealers = Agent.search([('company', '=', company.id),
            ('dealer_code', 'in', [d[0] for d in DEALERS])],
        order=[('dealer_code', 'ASC')])
    managers = User.search([('login', '=', 'channel')])
    months = [month_start(today, n) for n in [2, 1, 0]]
    periods = Period.create([{'name': m.strftime('%Y-%m'),
                'company': company.id, 'start_date': m,
                'end_date': next_month(m) - dt.timedelta(days=1)}
            for m in months])
    earlier, last, current = periods

    # the first dealer's newest line given back today: within its
    # plan's clawback days, taken back in this month's preview
    line, = Subscriber.search([
            ('channel', 'in', [o.id for o in dealers[0].outlets]),
            ('state', '=', 'active'),
            ], order=[('activation_date', 'DESC')], limit=1)
    order = Order(type='terminate', customer=line.customer, subscriber=line,
        reason="客户携号转网", channel=line.channel)
    order.save()
    Order.process([order])

    with Transaction().set_user(managers[0].id if managers else 0), \
            Transaction().set_context(company=company.id):
        for month in months[:2]:
            Scorecard.compute(month, company=company.id)
        Period.compute([earlier])
        settlements = Settlement.search([('period', '=', earlier.id)])
        Settlement.confirm(settlements)
        Settlement.pay(settlements)
        Period.close([earlier])
        Period.compute([last])
        Settlement.confirm(Settlement.search([('period', '=', last.id)]))
        Flag.create([{'dealer': dealers[1].id, 'kind': 'out_of_region',
                    'date': today,
                    'detail': "近30天开户的客户中，证件归属地不在代理商区域"
                    "（佛山市）的占比偏高，需核实是否跨区域销售。",
                    'value': D('33.33'), 'threshold': D('20')}])
        Period.compute([current])
    return {'telecom_commission_period': len(periods),
        'telecom_commission_settlement': Settlement.search_count([])}
