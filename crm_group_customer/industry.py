"Industries of group customers, a list kept in the client"
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields


class Industry(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'telecom.group.industry'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('code', 'ASC'), ('id', 'ASC')]
