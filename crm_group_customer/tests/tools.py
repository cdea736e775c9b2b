"Fixtures shared by the crm_group_customer tests"
from stdnum.cn import uscc

from trytond.pool import Pool
from trytond.transaction import Transaction

from crm_group_customer.group import USCC_TYPE
from crm_telecom.tests.tools import create_staff, setup_company


def valid_uscc(sequence=1, region='440300'):
    "A valid unified social credit code (统一社会信用代码)"
    base = '91%sMA5F%05d' % (region, sequence)
    return base + uscc.calc_check_digit(base)


def manager_staff(company=None, login='manager', name="客户经理小陈",
        director=None):
    """An account manager working under a group-customer director (the
    director's subordinate); returns (manager, director)"""
    Employee = Pool().get('company.employee')
    director = director or create_staff('director_' + login,
        'group_group_director', company=company, name="政企总监")
    manager = create_staff(login, 'group_account_manager', company=company,
        name=name)
    Employee.write([manager.employee],
        {'supervisor': director.employee.id})
    return manager, director


def create_group(name="深圳华南科技集团有限公司", sequence=1, manager=None,
        company=None, **values):
    "A group customer of the test company, with its enterprise code"
    Party = Pool().get('party.party')
    company = company or setup_company()
    with Transaction().set_context(telecom_customer=True,
            group_customer=True, company=company.id):
        group, = Party.create([{
                    'name': name,
                    'group_customer': True,
                    'company': company.id,
                    'identifiers': [('create', [{
                                    'type': USCC_TYPE,
                                    'code': valid_uscc(sequence),
                                    }])],
                    'account_manager': (manager.employee.id
                        if manager else None),
                    **values}])
    return group


def add_member(group, subscriber, **values):
    Member = Pool().get('telecom.group.member')
    member, = Member.create([{
                'group': group.id,
                'subscriber': subscriber.id,
                'company': subscriber.company.id,
                **values}])
    return member
