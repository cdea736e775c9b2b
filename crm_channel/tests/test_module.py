from trytond.tests.test_tryton import ModuleTestCase


class CrmChannelTestCase(ModuleTestCase):
    "Test the crm_channel module"
    module = 'crm_channel'
    extras = ['crm_service']


del ModuleTestCase
