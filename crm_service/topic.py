"""Topics of service requests (账务/充值, 增值业务, 网络质量, ...): what a
repeat complaint is compared on and what knowledge articles are filed
under."""
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields


class Topic(DeactivableMixin, ModelSQL, ModelView):
    "Service request topic"
    __name__ = 'telecom.service.topic'

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Unique(t, t.code),
                'crm_service.msg_topic_code_unique'),
            ]
        cls._order = [('code', 'ASC'), ('id', 'ASC')]
