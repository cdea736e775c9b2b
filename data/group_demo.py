"""The group customer demo (crm_group_customer): group products, three
group customers (one national with a Guangdong branch) with their key
contacts, members on group payment and group products, managed by the
demo's account managers under the group-customer director.

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
    return existing


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
        }
    return counts
