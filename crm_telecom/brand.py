from sql.operators import Equal

from trytond.model import (
    DeactivableMixin,
    Exclude,
    ModelSQL,
    ModelView,
    fields,
)


class Brand(DeactivableMixin, ModelSQL, ModelView):
    "Customer brand such as 全球通, 神州行 or 动感地带"
    __name__ = 'telecom.brand'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True)
    description = fields.Text("Description", translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Exclude(t, (t.code, Equal)),
                'crm_telecom.msg_brand_code_unique'),
            ]
