from trytond.tests.test_tryton import ModuleTestCase


class CrmServiceTestCase(ModuleTestCase):
    "Test the crm_service module"
    module = 'crm_service'


del ModuleTestCase
