from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class ServiceError(UserError):
    pass


class ServiceValidationError(ValidationError):
    pass
