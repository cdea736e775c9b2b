"""Service teams: the departments a request is taken in or transferred to,
with the supervisor and the director its escalations go to."""
from trytond.model import (
    DeactivableMixin,
    Index,
    ModelSQL,
    ModelView,
    Unique,
    fields,
)
from trytond.pyson import Eval

from crm_telecom.company import default_company


class Team(DeactivableMixin, ModelSQL, ModelView):
    "Service team"
    __name__ = 'telecom.service.team'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True)
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT')
    supervisor = fields.Many2One('company.employee', "Supervisor",
        domain=[('company', '=', Eval('company', -1))],
        help="Sees the team's requests and is the first escalation.")
    director = fields.Many2One('company.employee', "Director",
        domain=[('company', '=', Eval('company', -1))],
        help="The second escalation, after the supervisor.")
    members = fields.Many2Many('telecom.service.team-company.employee',
        'team', 'employee', "Members",
        domain=[('company', '=', Eval('company', -1))])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Unique(t, t.company, t.code),
                'crm_service.msg_team_code_unique'),
            ]
        cls._order = [('company', 'ASC'), ('code', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_company(cls):
        return default_company()

    @classmethod
    def of_employee(cls, employee):
        "The team an employee works in (the first, when several)"
        if not employee:
            return None
        teams = cls.search([('members', '=', int(employee))],
            order=[('id', 'ASC')], limit=1)
        return teams[0] if teams else None


class TeamEmployee(ModelSQL):
    "Service team member"
    __name__ = 'telecom.service.team-company.employee'

    team = fields.Many2One('telecom.service.team', "Team", required=True,
        ondelete='CASCADE')
    employee = fields.Many2One('company.employee', "Employee",
        required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.employee, Index.Range())))

