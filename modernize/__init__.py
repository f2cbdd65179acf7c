"""modernize: inventory legacy Linux servers and plan their move into containers."""

__version__ = "0.1.0"
