"""Read the mail that Django's filebased backend wrote, for the site admins' mailbox page.

The backend appends each message's bytes, a newline, a line of 79 dashes and a newline
to one `.log` file per connection. A message is addressed by its file's name and its
position in that file ("20261125-143210-140234-0"): files are only ever appended to, so
an id keeps pointing at the same message.

Newest first means files by modification time (newest first), and within a file the
later message first. Only the messages of the requested page are parsed; counting the
messages needs each file's separators, which are found once per file version (name,
size and modification time) and remembered.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import lru_cache
from pathlib import Path

SEPARATOR = b"\n" + b"-" * 79 + b"\n"
_HEADER_LINE = re.compile(rb"[!-9;-~]+:")
_STEM = r"[A-Za-z0-9][A-Za-z0-9_-]{0,199}"
_FILE_NAME = re.compile(rf"(?P<stem>{_STEM})\.log")
_MAIL_ID = re.compile(rf"(?P<stem>{_STEM})-(?P<index>[0-9]{{1,6}})")


@dataclass(frozen=True)
class StoredAttachment:
    filename: str | None
    content_type: str  # with its parameters, e.g. "text/calendar; charset=utf-8; method=REQUEST"
    size: int  # bytes, decoded


@dataclass(frozen=True)
class StoredMail:
    id: str
    file_name: str
    index: int
    date: datetime
    subject: str
    from_: str
    to: str
    cc: str
    text_body: str
    html_body: str | None
    attachments: list[StoredAttachment]


@dataclass(frozen=True)
class _MailFile:
    path: Path
    size: int
    mtime_ns: int

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        return _spans(str(self.path), self.size, self.mtime_ns)


@lru_cache(maxsize=8192)
def _spans(path: str, size: int, mtime_ns: int) -> tuple[tuple[int, int], ...]:
    """(start, end) of each complete message in the file; size and mtime key the cache."""
    try:
        with open(path, "rb") as file:
            data = file.read(size)
    except OSError:
        return ()
    spans = []
    start = 0
    position = data.find(SEPARATOR)
    while position != -1:
        after = position + len(SEPARATOR)
        if _starts_message(data, after):
            spans.append((start, position))
            start = after
        position = data.find(SEPARATOR, position + 1)
    # Whatever follows the last separator is a message still being written: left out.
    return tuple(spans)


def _starts_message(data: bytes, at: int) -> bool:
    """Whether a message's header block (or the end of the file) starts at `at`.

    A line of 79 dashes in a body looks like a separator; a real one is followed by header
    lines up to a blank line. A body line of dashes followed by text that is itself shaped
    like a header block and a blank line would still be taken for a separator.
    """
    first = True
    while at < len(data):
        end = data.find(b"\n", at)
        line = (data[at:] if end == -1 else data[at:end]).rstrip(b"\r")
        if not first and line == b"":
            return True
        is_continuation = not first and line[:1] in (b" ", b"\t")
        if not is_continuation and not _HEADER_LINE.match(line):
            return False
        if end == -1:  # the next message is still being written
            return True
        at = end + 1
        first = False
    return True


def _mail_files(folder: Path) -> list[_MailFile]:
    """The folder's mail files, newest first. Symlinks and other names are ignored."""
    files = []
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no mail sent yet, so no folder
        return []
    for entry in entries:
        if not _FILE_NAME.fullmatch(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            stat = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        files.append(_MailFile(Path(entry.path), stat.st_size, stat.st_mtime_ns))
    files.sort(key=lambda f: (f.mtime_ns, f.path.name), reverse=True)
    return files


def _read(mail_file: _MailFile, index: int) -> StoredMail:
    start, end = mail_file.spans[index]
    with open(mail_file.path, "rb") as file:
        file.seek(start)
        data = file.read(end - start)
    return _parse(data, mail_file, index)


def _parse(data: bytes, mail_file: _MailFile, index: int) -> StoredMail:
    message = BytesParser(policy=policy.default).parsebytes(data)
    return StoredMail(
        id=f"{mail_file.path.stem}-{index}",
        file_name=mail_file.path.name,
        index=index,
        date=_date(message, mail_file),
        subject=_header(message, "Subject"),
        from_=_header(message, "From"),
        to=_header(message, "To"),
        cc=_header(message, "Cc"),
        text_body=_body(message, "plain") or "",
        html_body=_body(message, "html"),
        attachments=[_attachment(part) for part in message.iter_attachments()],
    )


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, ""))
    except Exception:  # a malformed header still leaves the rest readable
        return ""


def _date(message: EmailMessage, mail_file: _MailFile) -> datetime:
    try:
        value = message["Date"].datetime if message["Date"] is not None else None
    except Exception:
        value = None
    if value is None:
        return datetime.fromtimestamp(mail_file.mtime_ns / 1e9, tz=UTC)
    if value.tzinfo is None:
        # Django writes UTC as "-0000", which the email package reads as naive.
        value = value.replace(tzinfo=UTC)
    return value


def _text(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, ValueError, KeyError):  # an unknown charset or a broken encoding
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    return None if part is None else _text(part)


def _attachment(part: EmailMessage) -> StoredAttachment:
    content_type = part.get_content_type()
    header = part["Content-Type"]
    params = getattr(header, "params", {}) if header is not None else {}
    content_type += "".join(f"; {key}={value}" for key, value in params.items())
    payload = part.get_payload(decode=True)
    size = len(payload) if isinstance(payload, bytes) else len(part.as_bytes())
    return StoredAttachment(filename=part.get_filename(), content_type=content_type, size=size)


class Mailbox:
    """The mail in a folder, newest first, as a sequence that parses only what is sliced.

    Django's Paginator can page it: it asks `count()` and then for one slice.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._files: list[_MailFile] | None = None

    @property
    def files(self) -> list[_MailFile]:
        if self._files is None:
            self._files = _mail_files(self.folder)
        return self._files

    def count(self) -> int:
        return sum(len(f.spans) for f in self.files)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[StoredMail]:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("A mailbox can only be sliced.")
        start = key.start or 0
        stop = key.stop
        if start < 0 or (stop is not None and stop < 0):
            raise ValueError("A mailbox slice cannot be negative.")
        found: list[StoredMail] = []
        position = 0  # of the first message of the current file, newest first
        for mail_file in self.files:
            if stop is not None and position >= stop:
                break
            count = len(mail_file.spans)
            for offset in range(max(start - position, 0), count):
                if stop is not None and position + offset >= stop:
                    break
                found.append(_read(mail_file, count - 1 - offset))  # last written first
            position += count
        return found

    def get(self, mail_id: str) -> StoredMail | None:
        match = _MAIL_ID.fullmatch(mail_id) if isinstance(mail_id, str) else None
        if match is None:
            return None
        path = self.folder / f"{match['stem']}.log"
        try:
            if path.is_symlink() or not path.is_file():
                return None
            stat = path.stat()
        except OSError:
            return None
        mail_file = _MailFile(path, stat.st_size, stat.st_mtime_ns)
        index = int(match["index"])
        if index >= len(mail_file.spans):
            return None
        return _read(mail_file, index)


def list_mail(
    folder: str | os.PathLike, *, page: int, per_page: int = 25
) -> tuple[list[StoredMail], int]:
    """One page (counted from 1) of the folder's mail, newest first, and the total."""
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page count from 1.")
    mailbox = Mailbox(folder)
    start = (page - 1) * per_page
    return mailbox[start : start + per_page], mailbox.count()


def get_mail(folder: str | os.PathLike, mail_id: str) -> StoredMail | None:
    """The message with this id, or None for an id that is malformed or names nothing."""
    return Mailbox(folder).get(mail_id)
