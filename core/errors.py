"""The one exception type for bad input: its message names the field and repeats the value.

A value is repeated through ``shown``: cut to ``SHOWN_CHARS`` characters ("…" at the cut), so
a 50 MB string or a list of a million rates makes a message of one short line.
"""
import reprlib

SHOWN_CHARS = 80

_repr = reprlib.Repr()
_repr.maxlevel, _repr.maxlist, _repr.maxtuple, _repr.maxdict = 3, 6, 6, 4
_repr.maxstring = _repr.maxother = SHOWN_CHARS


class ConfigError(ValueError):
    """Bad user input (a flag, a config key, a data cell, an output path).

    The command line prints ``str(error)`` on one line and exits with status 2;
    the window shows it next to the field.  The message names the field and the value.
    """


def shown(value, quote: bool = True) -> str:
    """``value`` as a message repeats it: its repr (``str`` if not ``quote``), at most
    SHOWN_CHARS characters.  An integer too long to print says how many digits it has."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * SHOWN_CHARS:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"   # str() may refuse it
    if isinstance(value, str):
        text = repr(value[:SHOWN_CHARS + 1]) if quote else value[:SHOWN_CHARS + 1]
    else:
        text = _repr.repr(value) if quote else str(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"


def read_text(path, where: str, undecodable: str = "not UTF-8 text") -> str:
    """The text of the file at ``path`` (UTF-8, a byte-order mark allowed); a file that cannot be
    read is a ConfigError starting with ``where`` (``undecodable``: the words for bytes that are
    not UTF-8)."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            return fh.read()
    except OSError as e:
        raise ConfigError(f"{where}: cannot be read ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{where}: {undecodable} ({e.reason})") from None
    except ValueError as e:                     # a NUL in the name
        raise ConfigError(f"{where}: cannot be opened ({e})") from None
