"""Who sees which group customers: record rules need the user's employees
(an account manager's own groups and performance, a director's and their
subordinates')"""
from trytond.pool import Pool, PoolMeta

# the models whose rules go by the group's account manager
GROUP_MODELS = {'party.party', 'telecom.group.member', 'telecom.group.product',
    'telecom.group.performance'}


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "employees" as list of ids of the current user\'s employees '
            '(group customers, their members and products, performance)')

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        if model_name in GROUP_MODELS:
            context['employees'] = list(
                Pool().get('res.user').get_employees())
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        if set(model_names) & GROUP_MODELS:
            key = (*key, Pool().get('res.user').get_employees())
        return key
