"""The one exception type for bad input: its message names the field and repeats the value."""


class ConfigError(ValueError):
    """Bad user input (a flag, a config key, a data cell, an output path).

    The command line prints ``str(error)`` on one line and exits with status 2;
    the window shows it next to the field.  The message names the field and the value.
    """
