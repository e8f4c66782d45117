"""The local control socket: paths, the stdlib-only client (the stop fast path), the line
format both ends speak, and the server. Import-free: the fast path loads this package."""
