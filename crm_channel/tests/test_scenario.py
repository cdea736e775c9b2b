from crm_telecom.tests.tools import scenario_tests


def load_tests(loader, tests, pattern):
    return scenario_tests(__name__, __file__, loader, tests, pattern)
