from sql import Literal
from sql.operators import Equal

from trytond.model import (
    DeactivableMixin,
    Exclude,
    ModelSQL,
    ModelView,
    fields,
    tree,
)


class Region(tree(separator=' / '), DeactivableMixin, ModelSQL, ModelView):
    "Province, city or district"
    __name__ = 'telecom.region'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True,
        help="Administrative division code, e.g. 110105.")
    type = fields.Selection([
            ('province', "Province"),
            ('city', "City"),
            ('district', "District"),
            ], "Type", required=True)
    parent = fields.Many2One('telecom.region', "Parent", ondelete='RESTRICT')
    children = fields.One2Many('telecom.region', 'parent', "Children")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Exclude(t, (t.code, Equal),
                    where=t.active == Literal(True)),
                'crm_telecom.msg_region_code_unique'),
            ]
        cls._order.insert(0, ('code', 'ASC'))

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('code', operator, operand, *extra),
            ]
