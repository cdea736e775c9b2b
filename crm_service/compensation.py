"""Compensation on complaints (placeholder)."""


class RequestCompensationMixin:
    __slots__ = ()
