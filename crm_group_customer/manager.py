"Who was a group's account manager, and when"
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction


class ManagerAssignment(ModelSQL, ModelView):
    __name__ = 'telecom.group.manager_assignment'

    group = fields.Many2One('party.party', "Group", required=True,
        ondelete='CASCADE', readonly=True)
    employee = fields.Many2One('company.employee', "Account Manager",
        readonly=True, ondelete='RESTRICT')
    start_date = fields.Date("From", required=True, readonly=True)
    end_date = fields.Date("Until", readonly=True)
    assigned_by = fields.Many2One('company.employee', "Assigned By",
        readonly=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def record(cls, groups):
        """Close the groups' open assignments and open one for their
        account manager (called when the manager is set or changed)"""
        if not groups:
            return
        today = Pool().get('ir.date').today()
        ids = [g.id for g in groups]
        current = {a.group.id: a for a in cls.search([
                    ('group', 'in', ids), ('end_date', '=', None)])}
        to_close, to_create = [], []
        for group in groups:
            manager = group.account_manager
            open_ = current.get(group.id)
            if open_ and open_.employee == manager:
                continue
            if open_:
                to_close.append(open_)
            if manager:
                to_create.append({
                        'group': group.id,
                        'employee': manager.id,
                        'start_date': today,
                        'assigned_by': Transaction().context.get('employee'),
                        })
        if to_close:
            cls.write(to_close, {'end_date': today})
        if to_create:
            cls.create(to_create)
