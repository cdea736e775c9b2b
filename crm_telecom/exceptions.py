from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class IdentityError(ValidationError):
    pass


class NumberError(ValidationError):
    pass


class RealNameError(UserError):
    pass


class OrderError(UserError):
    pass


class ExtraFieldError(ValidationError):
    pass
