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
