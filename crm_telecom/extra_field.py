from trytond.model import DictSchemaMixin, ModelSQL, ModelView, fields


class ExtraField(DictSchemaMixin, ModelSQL, ModelView):
    "Administrator-defined field added to customers or subscribers"
    __name__ = 'telecom.extra_field'

    target = fields.Selection([
            ('party.party', "Customer"),
            ('telecom.subscriber', "Subscriber"),
            ], "Applies To", required=True)

    @classmethod
    def default_target(cls):
        return 'party.party'
