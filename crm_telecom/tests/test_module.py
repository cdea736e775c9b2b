from trytond.tests.test_tryton import ModuleTestCase


class CrmTelecomTestCase(ModuleTestCase):
    "Test crm_telecom module"
    module = 'crm_telecom'


del ModuleTestCase
