"""The local stack: settings shared by every component, and process control for `make run`/`make stop`."""
