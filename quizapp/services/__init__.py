"""Use cases. A service changes state and flushes; the caller (a view or a command) commits."""
