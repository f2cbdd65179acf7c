"""One error hierarchy. A `UserError` is printed without a traceback and exits 2."""


class ModernizeError(Exception):
    """Base of every error modernize raises on purpose."""


class UserError(ModernizeError):
    """Bad input from the user: a missing file, an unknown format, a bad option."""


class SourceError(UserError):
    """A snapshot source cannot be opened or read (names the file)."""


class CorruptArchiveError(SourceError):
    """A tarball is truncated or corrupt. What was read before the damage is kept."""


class RegistryError(ModernizeError):
    """A detector plugin is broken or its name is taken."""
