"""The built-in readiness rules, one module per category. Each module's RULES list
is registered under the `modernize.rules` entry-point group."""
