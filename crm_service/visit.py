"""Return visits and satisfaction (placeholder)."""


class RequestVisitMixin:
    __slots__ = ()

    @property
    def return_visit_failed(self):
        return False
