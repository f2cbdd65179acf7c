"""The built-in detector plugins (registered through entry points)."""
