from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError
from trytond.modules.party.exceptions import EraseError, SimilarityWarning


class IdentityError(ValidationError):
    pass


class IdentityAccessError(AccessError):
    pass


class IdentitySimilarityWarning(SimilarityWarning):
    pass


class CustomerEraseError(EraseError):
    pass


class NumberError(ValidationError):
    pass


class RealNameError(UserError):
    pass


class OrderError(UserError):
    pass


class ExtraFieldError(ValidationError):
    pass
