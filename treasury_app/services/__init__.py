"""The app's core: workflow, poller, recovery and reports. Async where I/O happens, no Qt; the window and the
command line are two faces of these services."""
