"""The group customer demo (crm_group_customer): group products, three
group customers (one national with a Guangdong branch) with their key
contacts, members on group payment and group products, managed by the
demo's account managers under the group-customer director; their tariffs
(one approved by the director and the province, one waiting), the
pipeline (a lead, an opportunity in negotiation, a won project whose
contract has dispatched its order), visits, a work plan, care reminders
and the value levels.

Called by data/demo.py once the demo users exist and before the bill runs,
when crm_group_customer is activated, in the Guangdong company."""
import datetime as dt
from decimal import Decimal as D

# name, kind, monthly fee
GROUP_PRODUCTS = [
    ("集团V网", 'cug_voice', '10.00'),
    ("企信通", 'enterprise_sms', '200.00'),
    ("互联网专线 100M", 'dedicated_line', '2000.00'),
    ("集团彩铃", 'ring_back', '5.00'),
    ]
# key, name, industry code, size, scope, parent key, manager login,
# USCC sequence
GROUPS = [
    ('yuehai', "广东粤海制造集团有限公司", '03', 'large', 'province', None,
        'manager', 1),
    ('huaxin', "中国华信银行股份有限公司", '02', 'extra_large', 'national',
        None, 'manager2', 2),
    ('huaxin_gd', "中国华信银行股份有限公司广东分行", '02', 'large',
        'national', 'huaxin', 'manager2', 3),
    ('nanshan', "深圳市南山区教育局", '04', 'medium', 'province', None,
        'manager', 4),
    ]
# group key, name, role, title, phone, birthday (month, day)
CONTACTS = [
    ('yuehai', "林国栋", 'decision_maker', "副总裁", '13902201001', (12, 9)),
    ('yuehai', "陈晓梅", 'it', "信息中心主任", '13902201002', (3, 14)),
    ('yuehai', "黄丽华", 'finance', "财务经理", '13902201003', (7, 21)),
    ('huaxin_gd', "王建军", 'decision_maker', "分行行长", '13802202001',
        (12, 5)),
    ('huaxin_gd', "刘洋", 'it', "科技部经理", '13802202002', (5, 30)),
    ('nanshan', "赵文静", 'decision_maker', "办公室主任", '13602203001',
        (9, 10)),
    ]
# group key, members, of which paid by the group, monthly cap (None: all)
MEMBERS = [
    ('yuehai', 12, 8, '100.00'),
    ('huaxin_gd', 8, 8, None),
    ('nanshan', 5, 0, None),
    ]
# group key, product name, quantity, start (days ago)
SUBSCRIPTIONS = [
    ('yuehai', "集团V网", 1, 120),
    ('yuehai', "企信通", 2, 90),
    ('huaxin_gd', "互联网专线 100M", 1, 200),
    ('huaxin_gd', "集团彩铃", 8, 60),
    ('nanshan', "集团V网", 1, 45),
    ]


def uscc(sequence, region='440300'):
    "A valid unified social credit code for the demo's groups"
    from stdnum.cn import uscc as check
    base = '91%sMA5F%05d' % (region, sequence)
    return base + check.calc_check_digit(base)


def create_products(currency):
    from trytond.pool import Pool
    pool = Pool()
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    ModelData = pool.get('ir.model.data')
    existing = {t.name: t for t in Template.search(
            [('telecom_type', '=', 'group')])}
    unit = Uom(ModelData.get_id('product', 'uom_unit'))
    missing = [Template(name=name, type='service', default_uom=unit,
            telecom_type='group', group_product_kind=kind,
            telecom_currency=currency, monthly_fee=D(fee))
        for name, kind, fee in GROUP_PRODUCTS if name not in existing]
    Template.save(missing)
    existing.update((t.name, t) for t in missing)
    # the opportunities' lines take the variants
    Product = pool.get('product.product')
    Product.save([Product(template=t) for t in existing.values()
            if not t.products])
    return {n: Template(t.id) for n, t in existing.items()}


def create_groups(companies, users, today):
    """The groups of GROUPS with their contacts, accounts and managers;
    returns them by key"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Party = pool.get('party.party')
    Industry = pool.get('telecom.group.industry')
    Account = pool.get('telecom.account')
    Contact = pool.get('telecom.group.contact')
    industries = {i.code: i for i in Industry.search([])}
    company = companies['gd']
    groups = {}
    with Transaction().set_context(telecom_customer=True,
            group_customer=True, company=company.id):
        for (key, name, industry, size, scope, parent, manager,
                sequence) in GROUPS:
            found = Party.search([('name', '=', name),
                    ('group_customer', '=', True)], limit=1)
            if found:
                groups[key] = found[0]
                continue
            group, = Party.create([{
                        'name': name,
                        'group_customer': True,
                        'company': company.id,
                        'industry': industries[industry].id,
                        'group_size': size,
                        'group_scope': scope,
                        'parent_group': groups[parent].id if parent else None,
                        'account_manager': users[manager].employee.id,
                        'identifiers': [('create', [{
                                        'type': 'cn_vat',
                                        'code': uscc(sequence)}])],
                        }])
            account, = Account.create([{'payer': group.id,
                        'company': company.id, 'name': name,
                        'payment_type': 'postpaid'}])
            group.group_account = account
            group.save()
            groups[key] = group
    Contact.save([Contact(group=groups[key], name=name, role=role,
                title=title, phone=phone,
                birthday=dt.date(1970 + i, *birthday))
            for i, (key, name, role, title, phone, birthday)
            in enumerate(CONTACTS)
            if not Contact.search([('group', '=', groups[key].id),
                    ('name', '=', name)])])
    return groups


def add_members(groups, rng, today):
    """Live lines of Guangdong join the groups, some on group payment; the
    group products are subscribed, covering them"""
    from trytond.pool import Pool
    pool = Pool()
    Subscriber = pool.get('telecom.subscriber')
    Member = pool.get('telecom.group.member')
    if Member.search([], limit=1):
        return 0
    taken = set()
    lines = Subscriber.search([
            ('state', '=', 'active'),
            ('company', '=', next(iter(groups.values())).company.id),
            ('activation_date', '<=', today - dt.timedelta(days=120)),
            ], order=[('id', 'ASC')])
    rng.shuffle(lines)
    members = []
    for key, count, paid, cap in MEMBERS:
        chosen = [l for l in lines if l.id not in taken][:count]
        taken.update(l.id for l in chosen)
        for i, line in enumerate(chosen):
            members.append(Member(group=groups[key], subscriber=line,
                    company=line.company,
                    start_date=today - dt.timedelta(days=150),
                    paid_by_group=i < paid,
                    payment_cap=D(cap) if cap and i < paid else None))
    Member.save(members)
    return len(members)


def subscribe_products(groups, products, today):
    from trytond.pool import Pool
    GroupProduct = Pool().get('telecom.group.product')
    if GroupProduct.search([], limit=1):
        return 0
    subscriptions = [GroupProduct(group=groups[key],
            product=products[name], company=groups[key].company,
            quantity=quantity, monthly_fee=products[name].monthly_fee,
            start_date=today - dt.timedelta(days=days))
        for key, name, quantity, days in SUBSCRIPTIONS]
    GroupProduct.save(subscriptions)
    GroupProduct.activate(subscriptions)
    return len(subscriptions)


# group key, name, {product name or 'plans': discount}, months before
# this one it started, approved
TARIFFS = [
    ('yuehai', "粤海集团员工资费 85 折", {'plans': '15', "集团V网": '10'}, 3,
        True),
    ('nanshan', "南山教育局 2027 年资费", {"集团V网": '8'}, -1, False),
    ]
# group key, description, product, monthly revenue, one-off cost, where
# it stands: lead, negotiation, or won (its contract dispatched)
OPPORTUNITIES = [
    ('nanshan', "校园互联网专线", "互联网专线 100M", '2000.00', '30000.00',
        'lead'),
    ('huaxin_gd', "营业网点专线扩容", "互联网专线 100M", '2000.00',
        '45000.00', 'negotiation'),
    ('yuehai', "工厂园区企信通扩容", "企信通", '400.00', '2000.00', 'won'),
    ]
# group key, kind, days ago, purpose, outcome, next step
VISITS = [
    ('yuehai', 'regular', 20, "季度走访，了解集团V网使用情况",
        "通话量稳定，希望增加企信通条数", "提交企信通扩容方案"),
    ('huaxin_gd', 'pre_sale', 35, "营业网点专线需求调研",
        "新开 3 个网点需要专线", "准备投资分析"),
    ('nanshan', 'care', 5, "教师节回访", "满意", None),
    ]
# level, sequence, minimum average monthly revenue, minimum members
LEVEL_RULES = [
    ('a', 10, '600', None),
    ('b', 20, '200', None),
    ('c', 30, None, 5),
    ('d', 90, None, None),
    ]


def acting_as(user):
    "The transaction of a demo user, working as their employee"
    from trytond.transaction import Transaction
    transaction = Transaction()
    return transaction.set_user(user.id), transaction.set_context(
        employee=user.employee.id, company=user.company.id,
        _check_access=False)


def create_tariffs(groups, products, users, today):
    """The groups' tariffs: submitted by their manager, the approved one
    approved by the director then the province company"""
    from contextlib import ExitStack

    from trytond.pool import Pool
    pool = Pool()
    Tariff = pool.get('telecom.group.tariff')
    Member = pool.get('telecom.group.member')
    if Tariff.search([], limit=1):
        return 0
    tariffs = []
    for key, name, discounts, months, approved in TARIFFS:
        group = groups[key]
        plans = {m.subscriber.plan for m in Member.search([
                    ('group', '=', group.id)])}
        lines = []
        for product, discount in discounts.items():
            for template in (sorted(plans, key=lambda t: t.id)
                    if product == 'plans' else [products[product]]):
                lines.append({'product': template.id,
                        'discount': D(discount)})
        start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        for _ in range(max(months - 1, 0)):
            start = (start - dt.timedelta(days=1)).replace(day=1)
        if months < 0:
            start = (today.replace(day=28) + dt.timedelta(days=4)).replace(
                day=1)
        tariff = Tariff(group=group, company=group.company, name=name,
            valid_from=start, monthly_amount=D('3000'))
        tariff.lines = lines
        tariff.save()
        manager = next(u for u in users.values()
            if u.employee == group.account_manager)
        with ExitStack() as stack:
            for context in acting_as(manager):
                stack.enter_context(context)
            Tariff.submit([tariff])
        if approved:
            for login in ['director', 'gd_approver']:
                if Tariff(tariff.id).state != 'pending':
                    break
                with ExitStack() as stack:
                    for context in acting_as(users[login]):
                        stack.enter_context(context)
                    Tariff.approve([Tariff(tariff.id)])
        tariffs.append(tariff)
    return len(tariffs)


def create_pipeline(groups, products, users, today):
    """The opportunities of OPPORTUNITIES, taken as far as they stand; the
    won one's contract is active and its order dispatched"""
    from contextlib import ExitStack

    from trytond.pool import Pool
    pool = Pool()
    Opportunity = pool.get('sale.opportunity')
    Contract = pool.get('telecom.group.contract')
    if Opportunity.search([('party.group_customer', '=', True)], limit=1):
        return 0, 0
    contracts = 0
    for key, description, product, revenue, cost, stands in OPPORTUNITIES:
        group = groups[key]
        manager = next(u for u in users.values()
            if u.employee == group.account_manager)
        template = products[product]
        with ExitStack() as stack:
            for context in acting_as(manager):
                stack.enter_context(context)
            opportunity = Opportunity(party=group, company=group.company,
                currency=group.company.currency,
                employee=manager.employee, description=description,
                start_date=today - dt.timedelta(days=40),
                expected_monthly_revenue=D(revenue), one_off_cost=D(cost),
                requirements=description)
            opportunity.lines = [{'product': template.products[0].id,
                    'unit': template.default_uom.id, 'quantity': 1}]
            opportunity.save()
            if stands == 'lead':
                continue
            Opportunity.opportunity([opportunity])
            if stands == 'negotiation':
                opportunity.stage = 'negotiation'
                opportunity.save()
                continue
            Opportunity.submit_approval([opportunity])
        with ExitStack() as stack:
            for context in acting_as(users['director']):
                stack.enter_context(context)
            Opportunity.approve_project([Opportunity(opportunity.id)])
        with ExitStack() as stack:
            for context in acting_as(manager):
                stack.enter_context(context)
            result = Opportunity.draft_contract([Opportunity(opportunity.id)])
            contract, = Contract.browse(result['res_id'])
            contract.document = b'%PDF-1.4 demo contract'
            contract.document_name = '%s.pdf' % description
            contract.save()
            Contract.submit([contract])
        with ExitStack() as stack:
            for context in acting_as(users['director']):
                stack.enter_context(context)
            Contract.approve([Contract(contract.id)])
        contracts += 1
    return len(OPPORTUNITIES), contracts


def create_work(groups, users, today):
    """The managers' visits, this month's work plan of the first manager
    and the care reminders due"""
    from trytond.pool import Pool
    pool = Pool()
    Visit = pool.get('telecom.group.visit')
    Plan = pool.get('telecom.group.work_plan')
    Care = pool.get('telecom.group.care')
    if Visit.search([], limit=1):
        return {}
    Visit.save([Visit(group=groups[key], company=groups[key].company,
                employee=groups[key].account_manager,
                contact=(groups[key].group_contacts[0]
                    if groups[key].group_contacts else None),
                kind=kind, date=today - dt.timedelta(days=days),
                purpose=purpose, outcome=outcome, next_step=next_step)
            for key, kind, days, purpose, outcome, next_step in VISITS])
    manager = users['manager'].employee
    plan = Plan(employee=manager, company=manager.company,
        month=today.replace(day=1), goals="新增集团成员 20 名；专线商机立项 1 个")
    plan.tasks = [
        {'description': "走访粤海集团信息中心", 'group': groups['yuehai'].id,
            'due_date': today + dt.timedelta(days=5)},
        {'description': "南山教育局专线方案", 'group': groups['nanshan'].id,
            'due_date': today + dt.timedelta(days=12)},
        {'description': "集团成员资料核对", 'group': groups['yuehai'].id,
            'due_date': today + dt.timedelta(days=20)},
        ]
    plan.save()
    cares = Care.generate(today)
    return {'telecom_group_visit': len(VISITS), 'telecom_group_care':
        len(cares)}


def set_value_levels(today=None):
    """The value level rules, applied to the groups' revenue: called once
    the demo's bill runs have billed them"""
    from trytond.pool import Pool
    pool = Pool()
    Rule = pool.get('telecom.group.level_rule')
    Party = pool.get('party.party')
    if not Rule.search([], limit=1):
        Rule.save([Rule(level=level, sequence=sequence,
                    min_revenue=D(revenue) if revenue else None,
                    min_members=members)
                for level, sequence, revenue, members in LEVEL_RULES])
    Party.compute_value_levels(
        date=today or pool.get('ir.date').today())


def set_directors(users):
    "The account managers work under the group-customer director"
    from trytond.pool import Pool
    Employee = Pool().get('company.employee')
    director = users.get('director')
    managers = [users[l].employee for l in ['manager', 'manager2']
        if l in users]
    if director and managers:
        Employee.write(managers, {'supervisor': director.employee.id})


def create_group_customers(companies, rng=None, today=None):
    """Everything of the group customer demo; returns counts by table"""
    import random

    from trytond.pool import Pool
    pool = Pool()
    User = pool.get('res.user')
    rng = rng or random.Random(2026)
    today = today or pool.get('ir.date').today()
    users = {u.login: u for u in User.search([
                ('login', 'in', ['manager', 'manager2', 'director',
                        'gd_approver', 'hq_approver'])])}
    set_directors(users)
    products = create_products(companies['gd'].currency)
    groups = create_groups(companies, users, today)
    counts = {
        'telecom_group': len(groups),
        'telecom_group_member': add_members(groups, rng, today),
        'telecom_group_product': subscribe_products(groups, products, today),
        'telecom_group_tariff': create_tariffs(
            groups, products, users, today),
        }
    counts['sale_opportunity'], counts['telecom_group_contract'] = (
        create_pipeline(groups, products, users, today))
    counts.update(create_work(groups, users, today))
    return counts
