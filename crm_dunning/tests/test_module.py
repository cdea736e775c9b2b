from trytond.tests.test_tryton import ModuleTestCase


class CrmDunningTestCase(ModuleTestCase):
    "Test the crm_dunning module"
    module = 'crm_dunning'


del ModuleTestCase
