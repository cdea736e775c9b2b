from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class GroupError(UserError):
    pass


class GroupValidationError(ValidationError):
    pass
