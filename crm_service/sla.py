"""SLA of service requests (placeholder until the SLA policies land)."""
from trytond.model import fields


class RequestSLAMixin:
    "The deadline of a request and the steps that move its clock"
    __slots__ = ()
    deadline = fields.DateTime("Deadline", readonly=True)

    @classmethod
    def _sla_start(cls, requests):
        pass

    @classmethod
    def _sla_pause(cls, requests):
        pass

    @classmethod
    def _sla_resume(cls, requests):
        pass

    @classmethod
    def _sla_stop(cls, requests):
        pass

    @classmethod
    def _sla_reopen(cls, requests):
        pass
