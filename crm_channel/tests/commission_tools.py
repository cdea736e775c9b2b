"Fixtures of the commission and settlement tests"
import datetime as dt
from decimal import Decimal

from trytond.pool import Pool

from crm_telecom.tests.tools import (
    create_bill,
    create_payment,
    order,
    setup_company,
    setup_reference,
)


def commission_product():
    "The service product commissions are paid with (no accounts)"
    pool = Pool()
    Template = pool.get('product.template')
    Product = pool.get('product.product')
    ModelData = pool.get('ir.model.data')
    products = Product.search([('name', '=', "代理商佣金")], limit=1)
    if products:
        return products[0]
    unit = ModelData.get_id('product', 'uom_unit')
    template, = Template.create([{'name': "代理商佣金", 'type': 'service',
                'default_uom': unit}])
    if template.products:
        return template.products[0]
    product, = Product.create([{'template': template.id}])
    return product


def create_plan(dealer, rules, clawback_days=None, name="2026年社会渠道酬金"):
    """A plan of rules (dicts; a product given by name is a reference
    product) given to the dealer"""
    pool = Pool()
    Plan = pool.get('commission.plan')
    Agent = pool.get('commission.agent')
    regions, brands, products = setup_reference()
    rules = [dict(r) for r in rules]
    for sequence, rule in enumerate(rules, 1):
        if isinstance(rule.get('product'), str):
            rule['product'] = products[rule['product']].id
        for key in ['amount', 'rate']:
            if rule.get(key) is not None:
                rule[key] = Decimal(rule[key])
        rule.setdefault('sequence', sequence)
    plan, = Plan.create([{'name': name,
                'commission_product': commission_product().id,
                'clawback_days': clawback_days,
                'telecom_rules': [('create', rules)]}])
    Agent.write([dealer], {'plan': plan.id})
    return plan


def create_period(start, end, name=None):
    Period = Pool().get('telecom.commission.period')
    company = setup_company()
    period, = Period.create([{'name': name or start.strftime('%Y-%m'),
                'company': company.id, 'start_date': start,
                'end_date': end}])
    return period


def month(date, months=0):
    "(first, last) day of the month months after the date's"
    index = date.year * 12 + date.month - 1 + months
    first = dt.date(index // 12, index % 12 + 1, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) \
        - dt.timedelta(days=1)
    return first, last


def monthly_periods(date, count):
    "Periods of count months from the date's month"
    return [create_period(*month(date, i)) for i in range(count)]


def bill_line(line, amount, period_start, paid=True):
    "An issued bill of the line's plan fee for a month, paid if asked"
    BillLine = Pool().get('telecom.bill.line')
    first, last = month(period_start)
    bill = create_bill(line.account, amount, last + dt.timedelta(days=20),
        period_start=first)
    BillLine.create([{'bill': bill.id, 'subscriber': line.id,
                'kind': 'plan_fee', 'product': line.plan.id,
                'amount': Decimal(amount), 'sequence': 1}])
    if paid:
        create_payment(line.account, amount)
    return bill


def set_activation(line, date):
    "The line was activated on the date"
    Subscriber = Pool().get('telecom.subscriber')
    Subscriber.write([line], {'activation_date': date})


def change(line, type_, **values):
    "Process an order of the type on the line"
    Order = Pool().get('telecom.order')
    Order.process([order(type_, line, **values)])


def commissions(period, kind=None):
    "The period's commissions as (kind, line number, amount, reason)"
    Commission = Pool().get('commission')
    domain = [('period', '=', period.id)]
    if kind:
        domain.append(('kind', '=', kind))
    return sorted((c.kind, c.subscriber.rec_name if c.subscriber else None,
            c.amount, c.reason) for c in Commission.search(domain))
