"Fixtures shared by the crm_telecom tests"
import datetime as dt
import hashlib

from trytond.pool import Pool

from crm_telecom import identity


def valid_id(sequence=1, born=dt.date(1990, 5, 17), region='440106'):
    return identity.make(region, born, sequence)


def setup_reference():
    "Regions, brands and products from the suite's reference data"
    from data.reference import load_reference
    regions, brands, products = load_reference()
    return regions, brands, products


def create_customer(name="张三", code=None, sequence=1, **values):
    pool = Pool()
    Party = pool.get('party.party')
    identifiers = []
    if code is not False:
        identifiers = [('create', [{'type': 'cn_id',
                            'code': code or valid_id(sequence)}])]
    party, = Party.create([{'name': name, 'identifiers': identifiers,
                **values}])
    return party


def create_account(payer, **values):
    Account = Pool().get('telecom.account')
    account, = Account.create([{'payer': payer.id, **values}])
    return account


def create_numbers(*numbers):
    Number = Pool().get('telecom.number')
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


def xlsx_report(name, ids=(), data=None):
    "Run an Excel report: its sheet and its rows as tuples"
    import io

    import openpyxl
    Report = Pool().get(name, type='report')
    ext, content, _, _ = Report.execute(list(ids), data or {})
    assert ext == 'xlsx', ext
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return sheet, list(sheet.iter_rows(values_only=True))


def use_chinese(module):
    "zh_CN translatable, with the module's translations loaded"
    import importlib
    import os
    pool = Pool()
    Lang = pool.get('ir.lang')
    Translation = pool.get('ir.translation')
    chinese, = Lang.search([('code', '=', 'zh_CN')])
    Lang.write([chinese], {'translatable': True})
    Translation.translation_import('zh_CN', module, os.path.join(
            os.path.dirname(importlib.import_module(module).__file__),
            'locale', 'zh_CN.po'))
