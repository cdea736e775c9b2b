from trytond.exceptions import UserError


class DunningError(UserError):
    pass
