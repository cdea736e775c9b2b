from trytond.model import fields
from trytond.pool import PoolMeta


class Configuration(metaclass=PoolMeta):
    __name__ = 'telecom.configuration'

    provisioning_url = fields.Char("Provisioning Endpoint",
        help="URL of the network/BOSS provisioning interface. "
        "Empty: orders are acknowledged locally at once.")
    sms_url = fields.Char("SMS Gateway Endpoint",
        help="URL of the SMS gateway. Empty: messages are marked sent "
        "locally.")
    request_timeout = fields.Float("Request Timeout (s)", required=True,
        domain=[('request_timeout', '>', 0)])
    max_attempts = fields.Integer("Max Attempts", required=True,
        domain=[('max_attempts', '>', 0)],
        help="After this many failed attempts a request is marked dead "
        "and the billing operators are alerted.")
    retry_delay = fields.Integer("First Retry Delay (s)", required=True,
        domain=[('retry_delay', '>', 0)],
        help="Delay before the first retry; it doubles on every attempt.")

    @classmethod
    def default_request_timeout(cls):
        return 10.0

    @classmethod
    def default_max_attempts(cls):
        return 6

    @classmethod
    def default_retry_delay(cls):
        return 30
