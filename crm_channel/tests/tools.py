"Fixtures shared by the crm_channel tests"
import contextlib

from trytond.pool import Pool
from trytond.transaction import Transaction

from crm_telecom.tests.tools import (
    activation,
    create_customer,
    create_numbers,
    setup_company,
    setup_reference,
)


@contextlib.contextmanager
def as_user(user):
    "Work as a user, in their company (and as their employee if any)"
    transaction = Transaction()
    context = {'company': user.company.id, '_check_access': True}
    if user.employee:
        context['employee'] = user.employee.id
    with transaction.set_user(user.id), transaction.set_context(context):
        yield


def create_dealer(name="广州迅达通讯器材有限公司", code='GD-DL-0001',
        outlets=1, **values):
    "A dealer (commission agent) of the test company with its outlets"
    pool = Pool()
    Agent = pool.get('commission.agent')
    Party = pool.get('party.party')
    Channel = pool.get('telecom.channel')
    company = setup_company()
    party, = Party.create([{'name': name}])
    dealer, = Agent.create([{
                'party': party.id,
                'company': company.id,
                'currency': company.currency.id,
                'type_': 'agent',
                'dealer_code': code,
                **values}])
    Channel.create([{
                'name': "%s %s号店" % (name[:4], i + 1),
                'code': '%s-%02d' % (code, i + 1),
                'kind': 'outlet',
                'company': company.id,
                'dealer': dealer.id,
                } for i in range(outlets)])
    return dealer


def create_dealer_user(login, dealer):
    "A user of the Agent role acting for the dealer"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    company = setup_company()
    user, = User.create([{
                'login': login,
                'groups': [('add', [
                            ModelData.get_id('crm_telecom', 'group_agent')])],
                'companies': [('add', [company.id])],
                'company': company.id,
                'dealer': dealer.id,
                }])
    return user


def allocate(outlet, *numbers):
    "Pool numbers allocated to the outlet"
    Number = Pool().get('telecom.number')
    numbers = create_numbers(*numbers)
    Number.allocate(numbers, outlet)
    return numbers


def sell(outlet, number, customer=None, plan="神州行 18元畅聊卡",
        sequence=1, services=(), **values):
    "An activation at the outlet, completed: the line it sold"
    Order = Pool().get('telecom.order')
    regions, brands, products = setup_reference()
    customer = customer or create_customer(sequence=sequence)
    order = activation(customer, number, brands['SZX'], products[plan],
        channel=outlet.id,
        services=[('add', [products[s].id for s in services])], **values)
    Order.process([order])
    return order.subscriber
