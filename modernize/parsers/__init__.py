"""Parsers for the file formats servers keep their facts in, each following the
program's own rules (quoting, continuation lines, includes), not line regexes."""
