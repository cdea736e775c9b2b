from trytond.exceptions import UserError


class ProvisioningError(UserError):
    pass
