"Fixtures shared by the crm_telecom tests"
import datetime as dt

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
