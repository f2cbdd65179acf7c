"""Live hosts: a server reached over SSH (or this machine), read without writing to it.

`target` turns `ssh://user@host:port` and `~/.ssh/config` into connection settings,
`connect` opens a checked SSH connection, `collector` builds the POSIX sh script
that runs on the host from standard input, `frames` and `runtime_facts` read what
it sends back. The snapshot over all of it is `modernize.snapshot.ssh`.
"""
