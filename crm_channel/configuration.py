"Channel rules set in the client: the thresholds of the dealer risk flags"
from decimal import Decimal

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Channel configuration: when a dealer is flagged"
    __name__ = 'telecom.channel.configuration'

    identity_max_lines = fields.Integer("Max Lines per Identity",
        required=True, domain=[('identity_max_lines', '>', 0)],
        help="A dealer is flagged when it activates more lines than this "
        "for one resident ID within the identity window.")
    identity_days = fields.Integer("Identity Window (Days)", required=True,
        domain=[('identity_days', '>', 0)],
        help="The days over which the lines of one identity are counted.")
    no_usage_max_share = fields.Numeric("Max Share Without Usage (%)",
        digits=(5, 2), required=True,
        domain=[('no_usage_max_share', '>=', 0),
            ('no_usage_max_share', '<=', 100)],
        help="A dealer is flagged when more than this share of the lines "
        "it sold had no usage in their first 30 days.")
    no_usage_min_lines = fields.Integer("Min Lines for Usage Check",
        required=True, domain=[('no_usage_min_lines', '>', 0)],
        help="The share without usage is judged only from this many lines "
        "whose first 30 days are over.")
    out_of_region_max_lines = fields.Integer(
        "Max Lines Outside the Region", required=True,
        domain=[('out_of_region_max_lines', '>=', 0)],
        help="A dealer is flagged when it activates more lines than this "
        "outside its region within 30 days.")
    spike_factor = fields.Numeric("Spike Factor", digits=(5, 2),
        required=True, domain=[('spike_factor', '>', 0)],
        help="A dealer is flagged when its activations of the month exceed "
        "this many times the average of the 3 months before.")
    spike_min_activations = fields.Integer("Min Activations for a Spike",
        required=True, domain=[('spike_min_activations', '>', 0)],
        help="A spike needs at least this many activations in the month.")

    @classmethod
    def default_identity_max_lines(cls):
        return 3

    @classmethod
    def default_identity_days(cls):
        return 30

    @classmethod
    def default_no_usage_max_share(cls):
        return Decimal(30)

    @classmethod
    def default_no_usage_min_lines(cls):
        return 10

    @classmethod
    def default_out_of_region_max_lines(cls):
        return 0

    @classmethod
    def default_spike_factor(cls):
        return Decimal(3)

    @classmethod
    def default_spike_min_activations(cls):
        return 20
