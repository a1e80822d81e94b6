# Nothing but defaults.
