"Fixtures shared by the crm_service tests"
from contextlib import contextmanager

from trytond.pool import Pool
from trytond.transaction import Transaction

from crm_telecom.tests.tools import create_staff, setup_company


def create_team(code='HOTLINE', name="10086 热线", members=(),
        supervisor=None, director=None, company=None):
    "A service team of the test company, with employees of staff users"
    Team = Pool().get('telecom.service.team')
    company = company or setup_company()
    team, = Team.create([{'code': code, 'name': name,
                'company': company.id,
                'members': [('add', [u.employee.id for u in members])],
                'supervisor': supervisor.employee.id if supervisor else None,
                'director': director.employee.id if director else None,
                }])
    return team


def create_topic(code='VAS', name="增值业务"):
    Topic = Pool().get('telecom.service.topic')
    topics = Topic.search([('code', '=', code)])
    if topics:
        return topics[0]
    topic, = Topic.create([{'code': code, 'name': name}])
    return topic


def service_staff():
    """A hotline agent, their supervisor and director, in one team:
    returns (agent, supervisor, director, team)"""
    agent = create_staff('agent', 'group_call_centre', name="客服小李")
    supervisor = create_staff('supervisor',
        'crm_service.group_service_supervisor', name="班长老王")
    director = create_staff('director',
        'crm_service.group_service_supervisor', name="客服总监")
    team = create_team(members=[agent], supervisor=supervisor,
        director=director)
    return agent, supervisor, director, team


@contextmanager
def as_user(user):
    "Work as a staff user, in their company and as their employee"
    transaction = Transaction()
    with transaction.set_user(user.id), transaction.set_context(
            company=user.company.id, employee=user.employee.id,
            _check_access=True):
        yield


def create_request(subscriber=None, customer=None, **values):
    "A request taken by the employee of the context"
    Request = Pool().get('telecom.service_request')
    customer = customer or subscriber.customer
    values.setdefault('subject', "短信业务未恢复")
    request, = Request.create([{
                'customer': customer.id,
                'subscriber': subscriber.id if subscriber else None,
                **values}])
    return request



def company_staff(company, login, group, name=None):
    "A staff user of a role working as an employee of another company"
    return create_staff(login, group, company=company, name=name or login)
