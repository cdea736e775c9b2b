from trytond.tests.test_tryton import ModuleTestCase


class CrmProvisioningTestCase(ModuleTestCase):
    "Test the crm_provisioning module"
    module = 'crm_provisioning'


del ModuleTestCase
