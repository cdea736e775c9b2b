from . import routes  # noqa: F401 (registers the HTTP routes)
