from trytond.exceptions import UserError


class BalanceError(UserError):
    pass


class BillingError(UserError):
    pass


class UsageImportError(UserError):
    pass


class PaymentError(UserError):
    pass
