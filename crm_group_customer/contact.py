"The people an account manager deals with at a group customer"
from trytond.model import ModelSQL, ModelView, fields

ROLES = [
    ('decision_maker', "Decision Maker"),
    ('it', "IT Contact"),
    ('finance', "Finance"),
    ('purchasing', "Purchasing"),
    ('other', "Other"),
    ]


class Contact(ModelSQL, ModelView):
    __name__ = 'telecom.group.contact'

    group = fields.Many2One('party.party', "Group", required=True,
        ondelete='CASCADE', domain=[('group_customer', '=', True)])
    name = fields.Char("Name", required=True)
    role = fields.Selection(ROLES, "Role", required=True, sort=False)
    title = fields.Char("Title")
    phone = fields.Char("Phone")
    email = fields.Char("Email")
    birthday = fields.Date("Birthday",
        help="Care reminders are raised before it.")
    notes = fields.Text("Notes")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('group', 'ASC'), ('role', 'ASC'), ('name', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def default_role(cls):
        return 'other'

    def get_rec_name(self, name):
        return '%s (%s)' % (self.name, self.role_string)

    role_string = role.translated('role')
