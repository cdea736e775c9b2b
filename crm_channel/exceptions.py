from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class ChannelError(UserError):
    pass


class ChannelValidationError(ValidationError):
    pass


class StockError(UserError):
    pass


class CommissionError(UserError):
    pass


class CommissionValidationError(ValidationError):
    pass
