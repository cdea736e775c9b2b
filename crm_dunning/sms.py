"The text messages of the dunning: reminders, suspensions, restorations"
from trytond.pool import Pool


def notify(messages):
    """SMS to the lines: dicts with 'subscriber', 'event' and 'text'
    (through the outbox when crm_provisioning is active)"""
    if messages:
        Pool().get('telecom.subscriber').send_sms(messages)
