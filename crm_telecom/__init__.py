from trytond.model import ModelSQL
from trytond.pool import Pool
from trytond.report import Report

from .identity_mask import IdentityMaskMixin, IdentityMaskReportMixin

# On every model and report, so that no path from any of them unmasks an
# identity. Registered here: the [register_mixin] section of tryton.cfg
# resolves mixins under trytond.modules, where entry-point modules are not.
Pool.register_mixin(IdentityMaskMixin, ModelSQL, module='crm_telecom')
Pool.register_mixin(IdentityMaskReportMixin, Report, module='crm_telecom')
