"""What a dealer's users see: record rules need the user's dealer"""
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

# the models whose dealer rules read the "dealers" context
DEALER_MODELS = {
    'telecom.channel', 'telecom.order', 'telecom.subscriber', 'party.party',
    'telecom.number', 'telecom.number.allocation', 'commission.agent',
    'commission', 'telecom.payment', 'telecom.account',
    'telecom.commission.settlement',
    'telecom.dealer.scorecard',
    }


def user_dealers():
    "The dealers the current user acts for (none for the operator's staff)"
    user = Pool().get('res.user')(Transaction().user)
    return [user.dealer.id] if user.dealer else []


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "dealers" as list of ids of the dealers the current user '
            'acts for (channels, sales, customers and commissions)')

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        if model_name in DEALER_MODELS:
            context['dealers'] = user_dealers()
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        if set(model_names) & DEALER_MODELS:
            key = (*key, tuple(user_dealers()))
        return key
