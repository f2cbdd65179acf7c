from modernize.cli import entry

entry()
