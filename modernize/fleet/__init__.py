"""Many hosts at once: sources from arguments, `@file` lists and Ansible inventories,
scanned concurrently into one folder with a per-host summary (`fleet.json`)."""
