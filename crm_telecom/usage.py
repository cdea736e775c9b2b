from trytond.model import Index, ModelSQL, ModelView, Unique, fields

USAGE_TYPES = [
    ('voice', "Voice"),
    ('sms', "SMS"),
    ('data', "Data"),
    ]


class Usage(ModelSQL, ModelView):
    "Usage record (call, message or data session) of a line"
    __name__ = 'telecom.usage'

    subscriber = fields.Many2One('telecom.subscriber', "Line", required=True,
        ondelete='RESTRICT', readonly=True)
    type = fields.Selection(USAGE_TYPES, "Type", required=True,
        readonly=True)
    roaming = fields.Boolean("Roaming", readonly=True)
    other_party = fields.Char("Other Party", readonly=True)
    start = fields.DateTime("Start", required=True, readonly=True)
    duration = fields.Integer("Duration (s)", readonly=True)
    volume = fields.Integer("Volume (KB)", readonly=True)
    units = fields.Integer("Units", required=True, readonly=True,
        help="What rating counts: started minutes, messages or KB.")
    charge = fields.Numeric("Pre-Rated Charge", digits=(16, 2),
        readonly=True, help="Set when the record arrived already rated.")
    source_key = fields.Char("Source Key", required=True, readonly=True,
        help="Record identity in the exchanged files: a re-import skips it.")
    bill_line = fields.Many2One('telecom.bill.line', "Bill Line",
        readonly=True, ondelete='SET NULL')
    type_string = type.translated('type')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('subscriber')
        t = cls.__table__()
        cls._sql_constraints = [
            ('source_key_unique', Unique(t, t.source_key),
                'crm_telecom.msg_usage_source_key_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.subscriber, Index.Range()),
                    (t.start, Index.Range())),
                Index(t, (t.bill_line, Index.Range())),
                })
        cls._order = [('start', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_roaming(cls):
        return False
