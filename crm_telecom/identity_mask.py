"""Resident IDs stay masked through every door for the roles without the
identity group: reads, exports, searches and orderings, on the models that
hold them and through any path that leads to them from another model.

Models declare the fields that show an identity in ``_identity_fields``;
the mixins below are registered on every ModelSQL and every Report (see
__init__.py)."""
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.tools import strip_wildcard
from trytond.tools.domain_inversion import is_leaf
from trytond.transaction import Transaction, without_check_access

from . import identity
from .exceptions import IdentityAccessError

# Set while a masked role's call runs: nested searches and the reads that
# fill records during an export run without access check, this tells them
# whom they serve. A cache key so that masked values never reach the cache
# of server code.
MASKED = '_identity_masked'
Transaction.cache_keys.add(MASKED)


def identity_visible():
    """Whether the current user may see full resident ID numbers.

    Internal server code (no access check) always sees them; staff calls
    see them only with the identity group (clerks and administrators)."""
    transaction = Transaction()
    if transaction.context.get(MASKED):
        return False
    if not transaction.user or not transaction.check_access:
        return True
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    # get_id may search ir.model.data, which would ask again
    with without_check_access():
        group = ModelData.get_id('crm_telecom', 'group_identity')
    return group in User.get_groups()


def identity_masked():
    return not identity_visible()


def _masked_call():
    "A call of a masked role that does not know it yet"
    return (not Transaction().context.get(MASKED)) and identity_masked()


def _field_name(Model, name):
    if name == 'rec_name' and Model._rec_name in Model._fields:
        name = Model._rec_name
    return Model.__names__(name)['field']


def exact_identity(operator, value):
    """The complete valid ID a clause looks for, else None; the client's
    search box sends a full ID typed in it as ilike '%ID%'"""
    if operator in {'like', 'ilike'} and isinstance(value, str):
        value = strip_wildcard(value)
    elif operator != '=':
        return None
    if identity.is_valid(value):
        return identity.compact(value)


def check_clause(Model, clause):
    "Masked roles may search an identity for one complete valid ID only"
    name, operator, value = clause[:3]
    if not exact_identity(operator, value):
        raise IdentityAccessError(gettext(
                'crm_telecom.msg_identity_search_masked',
                field=_field_name(Model, name), operator=operator,
                value=value))


def check_domain(Model, domain):
    """Check the clauses on the model's identity fields; paths through
    relations reach the target model's own search_domain, and searchers of
    Function fields check their clause themselves"""
    fields = getattr(Model, '_identity_fields', None)
    if not fields or not domain:
        return
    if is_leaf(domain):
        if domain[0] in fields:
            check_clause(Model, domain)
    elif isinstance(domain, (list, tuple)):
        for clause in domain:
            if not isinstance(clause, str):
                check_domain(Model, clause)


def _refuse_order(Model, name):
    raise IdentityAccessError(gettext('crm_telecom.msg_identity_order_masked',
            field=_field_name(Model, name)))


def check_order(Model, order):
    "Sorting on an identity would rank it against known values"
    for oexpr, _ in order or []:
        names = oexpr.split('.')
        for name in names:
            if name in (getattr(Model, '_identity_fields', None) or ()):
                _refuse_order(Model, name)
            field = Model._fields.get(name)
            if field is None or not hasattr(field, 'get_target'):
                break
            Model = field.get_target()
        else:
            # a relation sorts on its target's record name
            if Model._rec_name in (
                    getattr(Model, '_identity_fields', None) or ()):
                _refuse_order(Model, Model._rec_name)


class IdentityMaskMixin:
    __slots__ = ()

    @classmethod
    def search(cls, domain, *args, **kwargs):
        if not _masked_call():
            return super().search(domain, *args, **kwargs)
        # positions of ModelSQL.search: offset, limit, order, count, query
        options = dict(zip(['offset', 'limit', 'order', 'count', 'query'],
                args), **kwargs)
        check_order(cls, options.get('order'))
        if options.get('count') or options.get('query'):
            with Transaction().set_context({MASKED: True}):
                return super().search(domain, *args, **kwargs)
        # Only the ids: the records go back to code that reads them
        # unmasked, in another cache than the masked one a full search
        # would fill with their columns.
        options['query'] = True
        with Transaction().set_context({MASKED: True}):
            query = super().search(domain, **options)
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return cls.browse([id_ for id_, in cursor])

    @classmethod
    def search_domain(cls, domain, active_test=None, tables=None):
        if getattr(cls, '_identity_fields', None) and identity_masked():
            check_domain(cls, domain)
        return super().search_domain(domain, active_test=active_test,
            tables=tables)

    @classmethod
    def export_data(cls, records, fields_names, header=False):
        if not _masked_call():
            return super().export_data(records, fields_names, header=header)
        # records read in this context mask identities whatever the path
        with Transaction().set_context({MASKED: True}):
            return super().export_data(cls.browse([r.id for r in records]),
                fields_names, header=header)


class IdentityMaskReportMixin:
    __slots__ = ()

    @classmethod
    def execute(cls, ids, data):
        if not _masked_call():
            return super().execute(ids, data)
        # the records a report renders are read in this context
        with Transaction().set_context({MASKED: True}):
            return super().execute(ids, data)
