"Fixtures of the group pipeline, contract and order tests"
import datetime as dt
from contextlib import contextmanager
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

from crm_group_customer.tests.tools import create_group, manager_staff
from crm_telecom.tests.tools import setup_company, setup_reference


def group_product(name="集团V网", fee='200'):
    "A group product template (集团V网 by default) and its variant"
    pool = Pool()
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    ModelData = pool.get('ir.model.data')
    setup_company()
    template, = Template.create([{
                'name': name,
                'type': 'service',
                'default_uom': Uom(ModelData.get_id('product', 'uom_unit')).id,
                'telecom_type': 'group',
                'group_product_kind': 'cug_voice',
                'monthly_fee': Decimal(fee),
                'products': [('create', [{}])],
                }])
    return template


def variant(template):
    "The product of a template, as opportunity lines take it"
    Product = Pool().get('product.product')
    if template.products:
        return template.products[0]
    product, = Product.create([{'template': template.id}])
    return product


def staffed_group(**values):
    "(group, manager user, director user): a group with its manager"
    manager, director = manager_staff()
    group = create_group(manager=manager, **values)
    return group, manager, director


@contextmanager
def as_user(user):
    "Act as a staff user, working as their employee in their company"
    transaction = Transaction()
    with transaction.set_user(user.id), transaction.set_context(
            employee=user.employee.id, company=user.company.id):
        yield


def signed_contract(group, manager, lines, start=None, end=None):
    "A draft contract of the group with its lines and signed document"
    Contract = Pool().get('telecom.group.contract')
    start = start or Pool().get('ir.date').today()
    end = end or start + dt.timedelta(days=364)
    contract, = Contract.create([{
                'group': group.id,
                'account_manager': manager.employee.id,
                'start_date': start,
                'end_date': end,
                'document': b'%PDF-1.4 signed',
                'document_name': 'contract.pdf',
                'lines': [('create', [{
                                'product': product.id,
                                'quantity': quantity,
                                'monthly_fee': Decimal(fee),
                                } for product, quantity, fee in lines])],
                }])
    return contract


def active_contract(group, manager, director, lines, **kwargs):
    "A contract submitted by the manager and approved by the director"
    Contract = Pool().get('telecom.group.contract')
    contract = signed_contract(group, manager, lines, **kwargs)
    with as_user(manager):
        Contract.submit([contract])
    with as_user(director):
        Contract.approve([contract])
    return contract


def plans():
    _, _, products = setup_reference()
    return products
