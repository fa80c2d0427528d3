"""Resource ids as SCIM sends them: strings of ASCII digits naming a row's primary key."""

# The largest primary key a database keeps (a signed 64-bit integer): a longer number
# names nothing, and the database would refuse it rather than find nothing.
MAX_ID = 2**63 - 1


def scim_id(text: object) -> int | None:
    """The primary key `text` names, or None when it names none: only ASCII digits count
    ("²" and "٣" are digits to str.isdigit, but int() refuses the first), from 1 to MAX_ID."""
    if not isinstance(text, str) or not text.isascii() or not text.isdecimal():
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None
