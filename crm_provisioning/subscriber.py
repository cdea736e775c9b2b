from trytond.pool import Pool, PoolMeta


class Subscriber(metaclass=PoolMeta):
    __name__ = 'telecom.subscriber'

    @classmethod
    def send_sms(cls, messages):
        "Through the outbox, in the caller's transaction"
        super().send_sms(messages)
        if messages:
            Pool().get('telecom.provisioning.request').notify(messages)
