"""The customer service demo (crm_service): teams, topics and service
requests in every state, taken by the demo's agents and clerks.

Called by data/demo.py once the demo users exist, when crm_service is
activated."""
import datetime as dt

# code, name, company key, member logins, supervisor login, director login
TEAMS = [
    ('HOTLINE', "10086 热线", 'gd', ['callcentre'], 'supervisor',
        'service_director'),
    ('HALL', "营业厅", 'gd', ['clerk'], 'supervisor', 'service_director'),
    ('ONLINE', "网上营业厅", 'gd', ['online'], 'supervisor',
        'service_director'),
    ('HK', "香港客服", 'hk', ['hk_clerk'], None, None),
    ]
TOPICS = [
    ('BILL', "话费账单"),
    ('TOPUP', "充值缴费"),
    ('VAS', "增值业务"),
    ('PLAN', "套餐资费"),
    ('NETWORK', "网络质量"),
    ('ORDER', "业务办理"),
    ('ROAMING', "国际及港澳台漫游"),
    ('ATTITUDE', "服务态度"),
    ]
# the hotline's calendar: weekdays and Saturday mornings, the public
# holidays of 2026 (an example year) and two make-up working days
HOURS = [(weekday, 9, 18) for weekday in '01234'] + [('5', 9, 12)]
HOLIDAYS = [
    ((2026, 1, 1), "元旦"),
    *[((2026, 2, day), "春节") for day in range(16, 23)],
    ((2026, 4, 5), "清明节"),
    *[((2026, 5, day), "劳动节") for day in range(1, 6)],
    ((2026, 6, 19), "端午节"),
    ((2026, 9, 25), "中秋节"),
    *[((2026, 10, day), "国庆节") for day in range(1, 8)],
    ]
WORKING_DAYS = [((2026, 2, 28), "春节调休", '4'), ((2026, 10, 10), "国庆调休", '4')]
# name, request type, customer tier (None: any), hours to resolve
POLICIES = [
    ("咨询 4 小时", 'consultation', None, 4),
    ("投诉 24 小时", 'complaint', None, 24),
    ("金卡及以上客户投诉 8 小时", 'complaint', 'gold', 8),
    ("白金卡客户投诉 8 小时", 'complaint', 'platinum', 8),
    ("钻石卡客户投诉 4 小时", 'complaint', 'diamond', 4),
    ("故障 12 小时", 'fault', None, 12),
    ("业务办理 48 小时", 'business', None, 48),
    ("建议 72 小时", 'suggestion', None, 72),
    ]
# title, kind, topic codes, request types, keywords, body
ARTICLES = [
    ("复机后增值业务未恢复的处理", 'article', ['VAS'], ['complaint', 'fault'],
        "复机 增值业务 短信 未恢复",
        "1. 在客户 360° 视图核对号码及其业务状态；\n"
        "2. 业务显示暂停或平台未恢复的，转派网络支撑重新开通；\n"
        "3. 首问责任人跟进至客户确认，不得让客户另行拨打热线。"),
    ("充值成功余额未变", 'article', ['TOPUP'], ['complaint', 'consultation'],
        "充值 到账 余额 一卡双号",
        "核对缴费记录与账户流水；一卡双号客户确认充值号码所属公司，"
        "必要时向对方公司发起跨公司协查，由首问责任人答复客户。"),
    ("话费异常投诉话术", 'script', ['BILL'], ['complaint'],
        "话费 账单 多扣 异常",
        "您好，我先帮您核对本月账单明细，请稍等。……如确属计费差错，"
        "我们会在下月账单中为您减免。"),
    ("5G 套餐升级咨询话术", 'script', ['PLAN'], ['consultation'],
        "5G 套餐 升级 资费",
        "为您介绍适合您的 5G 套餐：……升级次月生效，当月按原套餐计费。"),
    ("室内信号差的排查步骤", 'article', ['NETWORK'], ['complaint', 'fault'],
        "信号 室内 掉话 覆盖",
        "记录客户地址与时间段，提交网络优化工单，48 小时内回访客户。"),
    ("港澳漫游开通说明", 'article', ['ROAMING'], ['consultation', 'business'],
        "漫游 香港 澳门 开通",
        "确认号码状态正常、无欠费后开通国际及港澳台漫游，资费以短信为准。"),
    ]
# type, topic, subject, channel, taker login
REQUESTS = [
    ('complaint', 'VAS', "停机复机后手机报短信业务未恢复", 'call_centre',
        'callcentre'),
    ('complaint', 'TOPUP', "内地号码充值成功但余额未变", 'call_centre',
        'callcentre'),
    ('complaint', 'BILL', "本月话费比上月多出 30 元", 'call_centre',
        'callcentre'),
    ('complaint', 'NETWORK', "家中室内信号差，通话经常中断", 'online',
        'online'),
    ('consultation', 'PLAN', "咨询 5G 套餐升级资费", 'business_hall',
        'clerk'),
    ('consultation', 'ROAMING', "去香港出差如何开通漫游", 'call_centre',
        'callcentre'),
    ('business', 'ORDER', "申请办理副卡", 'business_hall', 'clerk'),
    ('fault', 'NETWORK', "手机无法上网", 'app', 'online'),
    ('suggestion', 'ATTITUDE', "建议营业厅周末延长营业时间",
        'business_hall', 'clerk'),
    ('complaint', 'ATTITUDE', "营业员办理业务态度冷淡", 'sms_hall',
        'online'),
    ]


def create_service(companies):
    """Teams with their members, topics and about forty requests: open,
    waiting on the customer, handed to the back office, resolved and
    closed; a repeat complaint among them"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Team = pool.get('telecom.service.team')
    Topic = pool.get('telecom.service.topic')
    Request = pool.get('telecom.service_request')
    Subscriber = pool.get('telecom.subscriber')
    User = pool.get('res.user')
    if Request.search([], limit=1):
        return {}
    users = {u.login: u for u in User.search([])}
    _rules()

    def employee(login):
        user = users.get(login)
        return user.employee.id if user and user.employee else None

    Team.save([Team(code=code, name=name, company=companies[key],
                members=[employee(m) for m in members if employee(m)],
                supervisor=employee(supervisor),
                director=employee(director))
            for code, name, key, members, supervisor, director in TEAMS])
    topics = {t.code: t for t in Topic.search([])}
    new_topics = [Topic(code=c, name=n) for c, n in TOPICS
        if c not in topics]
    Topic.save(new_topics)
    topics.update({t.code: t for t in new_topics})
    _knowledge(topics)

    lines = Subscriber.search([
            ('company', '=', companies['gd'].id),
            ('state', '=', 'active'),
            ], order=[('id', 'ASC')], limit=40)
    created = []
    for i, line in enumerate(lines):
        type_, topic, subject, channel, login = REQUESTS[i % len(REQUESTS)]
        if not employee(login):
            continue
        with Transaction().set_context(employee=employee(login),
                company=companies['gd'].id):
            request, = Request.create([{
                        'type': type_,
                        'topic': topics[topic].id,
                        'subject': subject,
                        'channel': channel,
                        'customer': line.customer.id,
                        'subscriber': line.id,
                        'contact_phone': line.number.number,
                        'contacts': [('create', [{
                                        'channel': channel,
                                        'note': subject,
                                        }])],
                        }])
            created.append((request, login))
    _work_on(created, users, companies)
    return {'telecom_service_request': len(created)}


def _rules():
    "The calendar and the SLA policies the deadlines are counted on"
    from trytond.pool import Pool
    pool = Pool()
    Calendar = pool.get('telecom.service.calendar')
    SLA = pool.get('telecom.service.sla')
    Configuration = pool.get('telecom.configuration')
    calendar, = Calendar.create([{
                'name': "客服工作日",
                'hours': [('create', [{
                                'weekday': weekday,
                                'from_time': dt.time(start),
                                'to_time': dt.time(end),
                                } for weekday, start, end in HOURS])],
                'holidays': [('create', [{
                                'date': dt.date(*date), 'name': name,
                                } for date, name in HOLIDAYS])],
                'working_days': [('create', [{
                                'date': dt.date(*date), 'name': name,
                                'weekday': weekday,
                                } for date, name, weekday in WORKING_DAYS])],
                }])
    configuration = Configuration(1)
    configuration.service_calendar = calendar
    configuration.save()
    SLA.create([{
                'name': name, 'request_type': type_,
                'customer_level': level, 'resolve_hours': hours,
                'remind_hours': min(2, hours / 2),
                } for name, type_, level, hours in POLICIES])


def _knowledge(topics):
    from trytond.pool import Pool
    Article = Pool().get('telecom.knowledge.article')
    Article.create([{
                'title': title, 'kind': kind, 'body': body,
                'keywords': keywords, 'request_types': types,
                'topics': [('add', [topics[c].id for c in codes])],
                } for title, kind, codes, types, keywords, body in ARTICLES])


def _work_on(created, users, companies):
    "Move the requests on: some wait, some are transferred, some resolved"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Request = pool.get('telecom.service_request')
    Handling = pool.get('telecom.service_request.handling')
    back_office = users.get('billing')
    for i, (request, login) in enumerate(created):
        with Transaction().set_context(employee=users[login].employee.id,
                company=companies['gd'].id):
            step = i % 5
            if step == 1:
                Request.wait([request])
            elif step == 2 and back_office and back_office.employee:
                Handling.create([{'request': request.id,
                            'handler': back_office.employee.id,
                            'question': "请核查该号码的计费与业务状态",
                            }])
            elif step in {3, 4}:
                request.resolution = "已核实并处理，客户认可处理结果"
                request.save()
                Request.resolve([request])
                if step == 4:
                    Request.confirm([request])
    _visits_and_compensation(created, users, companies)
    # a repeat complaint: the customer of the first calls again
    first, login = created[0]
    with Transaction().set_context(employee=users[login].employee.id,
            company=companies['gd'].id):
        Request.create([{
                    'type': 'complaint',
                    'topic': first.topic.id,
                    'subject': "短信业务仍未恢复，第二次来电",
                    'channel': 'call_centre',
                    'customer': first.customer.id,
                    'subscriber': first.subscriber.id,
                    'contacts': [('create', [{
                                    'note': "客户再次来电催办",
                                    'date': dt.datetime.now(),
                                    }])],
                    }])


def _visits_and_compensation(created, users, companies):
    """Return visits on resolved requests (one satisfied, one unreachable)
    and a bill credit on a billing complaint"""
    from decimal import Decimal

    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Visit = pool.get('telecom.service_request.visit')
    Compensation = pool.get('telecom.service_request.compensation')
    resolved = [(r, login) for r, login in created if r.state == 'resolved']
    for (request, login), values in zip(resolved, [
                {'satisfaction': 5, 'reason': "处理及时，很满意"},
                {'result': 'unreachable', 'reason': "三次回访无人接听"},
                ]):
        with Transaction().set_context(employee=users[login].employee.id,
                company=companies['gd'].id):
            Visit.create([{'request': request.id, 'method': 'call',
                        **values}])
    billing = [(r, login) for r, login in created
        if r.type == 'complaint' and r.topic.code == 'BILL'
        and r.state in {'open', 'waiting', 'resolved'}]
    if billing:
        request, login = billing[0]
        with Transaction().set_context(employee=users[login].employee.id,
                company=companies['gd'].id):
            compensation, = Compensation.create([{
                        'request': request.id,
                        'amount': Decimal('10.00'),
                        'reason': "计费差错，下月账单减免 10 元",
                        }])
            Compensation.propose([compensation])
