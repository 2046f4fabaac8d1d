"""E-mail (.eml through the standard library's `email`) and plain-text threads.

Each message is a section headed "date — sender — subject", oldest first. The earlier messages a
reply quotes ("> " lines under "Le … a écrit :" / "On … wrote:", Outlook's "-----Original
Message-----" or "De : … Envoyé : … Objet :" header blocks) are recognised and set apart: each is
written once, oldest first, as a section headed "Message cité / Quoted earlier message — date —
sender — subject", so that what only a quoted message says can be asked about; its blocks are the
document's `quoted_blocks` (passages and answer sentences, never commitments: a date proposed
then replaced is no new statement), and ingestion leaves out a quoted message the store already
holds (its original, or another thread quoting it). A forwarded message ("Fwd:", "TR:", "Forwarded message") is the content
being sent, so it is indexed as a message of its own. Attachments of a supported type become
documents of their own (see `ingest.load.attached_documents`), which the message names.
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from ingest.blocks import LoadError, TextBuilder
from ingest.plaintext import plain_text_blocks
from kb.schema import QUOTED_HEADING

log = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_ATTRIBUTION = re.compile(r"^\s*(?:Le|On)\s+(?P<what>.{4,240}?)\s+(?:a\s+écrit|wrote)\s*:\s*$", re.I | re.S)
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Message d'origine|Forwarded message|Message transféré|"
    r"Mensaje original)\s*-{2,}\s*$", re.I)
_HEADER = re.compile(r"^\s*\*?(?P<name>From|De|Sent|Envoyé|Date|To|À|Cc|Subject|Objet)\*?\s*:\s*(?P<value>.*)$", re.I)
_NAMES = {"from": "sender", "de": "sender", "sent": "date", "envoyé": "date", "date": "date",
          "subject": "subject", "objet": "subject"}
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fw|fwd|tr)\s*:", re.I)
_FORWARD_SEPARATOR = re.compile(r"forward|transf", re.I)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|tr|fw|fwd|réf)\s*:\s*)+", re.I)


@dataclass
class Post:
    """One message of a thread: who sent it, when, about what, and what it says itself."""

    sender: str
    date: str
    subject: str
    text: str
    attachments: tuple = ()
    quoted: bool = False  # an earlier message quoted by a reply: kept in the text, not indexed

    def heading(self) -> str:
        """The section title: "date — sender — subject" (the parts it has)."""
        return " — ".join(part for part in (self.date, self.sender, self.subject) if part) or "Message"


def eml_blocks(data: bytes, builder: TextBuilder) -> dict:
    """Read one .eml message, its quoted history and its attachments into `builder`; returns its
    title (the subject, without "Re:") and date (of the message)."""
    if b"\x00" in data[:65536]:
        raise LoadError("not an e-mail message (binary content)")
    message = BytesParser(policy=policy.default).parsebytes(data)
    if not any(message.get(name) for name in ("From", "Date", "Subject")):
        raise LoadError("not an e-mail message (no From, Date or Subject header)")
    when = _header_date(message)
    top = Post(_header(message, "From"), when[1] if when else _header(message, "Date"), _header(message, "Subject"),
               _body_text(message), tuple(_attachments(message)))
    posts = thread_posts(top)
    write_posts(posts, builder)
    subject = _REPLY_PREFIX.sub("", top.subject).strip()
    return {"title": subject or None, **({"date": when[0]} if when else {})}


def looks_like_thread(text: str) -> bool:
    """Is a plain text a pasted e-mail thread? It opens with a header block (From/De, Date/Envoyé,
    Subject/Objet), or holds at least two quoted earlier messages."""
    head = [line for line in text.lstrip().split("\n")[:6] if line.strip()]
    if _header_block(head) is not None:
        return True
    markers = sum(1 for line in text.split("\n") if _SEPARATOR.match(line) or _ATTRIBUTION.match(line))
    return markers >= 2


def thread_blocks(text: str, builder: TextBuilder) -> dict:
    """Read a plain-text thread into `builder`, like an .eml's messages; returns its title (the
    subject) and date (of the top message) when its header block gives them."""
    lines = text.strip().split("\n")
    found = _header_block(lines[:8])
    fields, skip = found if found else ({}, 0)
    top = Post(fields.get("sender", ""), fields.get("date", ""), fields.get("subject", ""), "\n".join(lines[skip:]))
    write_posts(thread_posts(top), builder)
    subject = _REPLY_PREFIX.sub("", top.subject).strip()
    when = _written_date(top.date)
    return {**({"title": subject} if subject else {}), **({"date": when} if when else {})}


def _written_date(text: str) -> str | None:
    """The ISO date of a header's date as people write it ("lundi 2 mars 2026 11:00")."""
    from ingest.roadmap.dates import find_dates

    found = [d.value for d in find_dates(text, None) if d.value is not None]
    return found[0].isoformat() if found else None


def thread_posts(top: Post) -> list[Post]:
    """The message and the earlier ones it quotes, oldest first, each message once."""
    chain: list[Post] = []
    current = top
    subject = _REPLY_PREFIX.sub("", top.subject).strip()
    forwarded = bool(_FORWARD_SUBJECT.match(top.subject))
    while True:
        own, earlier = split_quoted(current.text)
        # A quoted message shows no subject of its own: it is the thread's.
        chain.append(Post(current.sender, current.date, current.subject or subject, own, current.attachments,
                          current.quoted and not forwarded))
        if earlier is None or len(chain) > 200:
            break
        current = earlier
    seen: set[str] = set()
    posts = []
    for post in reversed(chain):
        key = " ".join(post.text.lower().split())
        if key and key in seen:
            continue
        seen.add(key)
        posts.append(post)
    return posts


def split_quoted(text: str) -> tuple[str, Post | None]:
    """(what the message says itself, the earlier message it quotes or None)."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        attribution, used = _attribution(lines, index)
        if attribution:
            date, _, sender = attribution.group("what").rpartition(", ")
            return _own(lines[:index]), Post(sender.strip(), date.strip(), "", _unquote(lines[index + used :]),
                                             quoted=True)
        header_at = index + 1 if _SEPARATOR.match(line) else index
        block = _header_block(lines[header_at : header_at + 8]) if _SEPARATOR.match(line) or _HEADER.match(line) else None
        if block is not None:
            fields, used = block
            rest = lines[header_at + used :]
            forward = bool(_SEPARATOR.match(line)) and bool(_FORWARD_SEPARATOR.search(line))
            return _own(lines[:index]), Post(fields.get("sender", ""), fields.get("date", ""),
                                             fields.get("subject", ""), _unquote(rest), quoted=not forward)
        if line.lstrip().startswith(">") and not any(not x.strip().startswith(">") and x.strip() for x in lines[index:]):
            return _own(lines[:index]), Post("", "", "", _unquote(lines[index:]), quoted=True)  # a quote nobody introduced
    return _own(lines), None


def _attribution(lines: list[str], index: int) -> tuple[re.Match | None, int]:
    """The attribution line at `index` ("Le 12 mars 2026 à 10:00, Awa Diop a écrit :"), perhaps
    wrapped over two lines, and how many lines it takes; it must hold a date or an address."""
    candidates = [(lines[index], 1)]
    if index + 1 < len(lines) and re.match(r"^\s*(?:Le|On)\s", lines[index]):
        candidates.append((lines[index] + " " + lines[index + 1], 2))
    for text, used in candidates:
        match = _ATTRIBUTION.match(text)
        if match and re.search(r"\d|@", match.group("what")):
            return match, used
    return None, 0


def _own(lines: list[str]) -> str:
    # Inline replies keep their own lines; the quoted ones in between were said earlier.
    return "\n".join(line for line in lines if not line.lstrip().startswith(">")).strip()


def _unquote(lines: list[str]) -> str:
    """One level of "> " taken off each line."""
    return "\n".join(re.sub(r"^\s*> ?", "", line) for line in lines).strip()


def _header_block(lines: list[str]) -> tuple[dict[str, str], int] | None:
    """Fields of a header block starting at the first line (at least a sender and a date or a
    subject), and how many lines it takes; None when the lines hold none."""
    fields: dict[str, str] = {}
    used = 0
    for line in lines:
        match = _HEADER.match(line.lstrip("> ").rstrip()) if line.strip() else None
        if not match:
            if line.strip() or fields:
                break
            used += 1
            continue
        key = _NAMES.get(match.group("name").lower())
        if key:
            fields.setdefault(key, " ".join(match.group("value").split()))
        used += 1
    if "sender" in fields and ("date" in fields or "subject" in fields):
        return fields, used
    return None


def write_posts(posts: list[Post], builder: TextBuilder) -> None:
    """Each post a section: its heading, its paragraphs, then the names of its attachments (which
    the builder keeps, to become documents of their own); a quoted post's section is headed
    `QUOTED_HEADING` and its blocks are the builder's `quoted_blocks`."""
    for post in posts:
        if not post.text and not post.attachments:
            continue
        if post.quoted:
            # An earlier message only this thread holds: its facts can be asked about, under a
            # heading that says it is quoted; kept out of the document's own blocks, so the
            # commitments register reads no quoted statement as a new one.
            builder.quoting = True
            builder.add(f"{QUOTED_HEADING} — {post.heading()}", kind="heading", level=1, starts_chunk=True)
            plain_text_blocks(post.text, builder, base_level=1)
            builder.quoting = False
            continue
        builder.add(post.heading(), kind="heading", level=1, starts_chunk=True)
        plain_text_blocks(post.text, builder, base_level=1)
        if post.attachments:
            builder.add("Pièces jointes / Attachments : " + ", ".join(name for name, _ in post.attachments))
        builder.attachments += post.attachments


def _header(message: EmailMessage, name: str) -> str:
    try:
        return " ".join(str(message.get(name, "") or "").split())
    except (ValueError, TypeError, IndexError):  # a header the policy cannot parse
        return ""


def _header_date(message: EmailMessage) -> tuple[str, str] | None:
    """(ISO date, "YYYY-MM-DD HH:MM") of the Date header, None when absent or unreadable."""
    try:
        moment = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    return moment.date().isoformat(), moment.strftime("%Y-%m-%d %H:%M")


def _body_text(message: EmailMessage) -> str:
    """The message's own text: its plain part, else its HTML part as text; a body whose encoding
    is unknown or broken is a LoadError."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    charset = part.get_content_charset() or "us-ascii"
    try:
        content = part.get_content()
    except LookupError:
        raise LoadError(f"malformed e-mail: unknown character encoding '{charset}' in the message body") from None
    except (ValueError, UnicodeError, AssertionError) as exc:
        raise LoadError(f"malformed e-mail: the message body cannot be decoded ({type(exc).__name__})") from None
    if isinstance(content, bytes):
        raise LoadError("malformed e-mail: the message body is not text")
    if content.count("\ufffd") > max(3, len(content) // 100):
        raise LoadError(f"malformed e-mail: the message body is not valid {charset} text")
    if part.get_content_subtype() == "html":
        from bs4 import BeautifulSoup

        content = BeautifulSoup(content, "html.parser").get_text("\n")
    return content.replace("\r\n", "\n").replace("\r", "\n").strip()


def _attachments(message: EmailMessage):
    """(file name, LoadedDocument) of each attachment of a supported type that loads."""
    for part in message.iter_attachments():
        name = Path(part.get_filename() or "").name
        if not attachment_wanted(name):
            continue
        try:
            payload = part.get_payload(decode=True) or b""
        except (ValueError, TypeError):
            continue
        loaded = load_attachment(name, payload)
        if loaded is not None:
            yield name, loaded


def attachment_wanted(name: str) -> bool:
    """Is a file of this name read as a document of its own? (A supported type, not a message:
    an attached message would nest threads without end.)"""
    from ingest.load import SUPPORTED_SUFFIXES

    suffix = Path(name).suffix.lower()
    return bool(name) and suffix in SUPPORTED_SUFFIXES and suffix not in (".eml", ".msg")


def load_attachment(name: str, payload: bytes):
    """The attachment `name` read as a document (a LoadedDocument), None when it is too large or
    does not load (logged: the message itself still goes in)."""
    from ingest.load import load_document

    if len(payload) > MAX_ATTACHMENT_BYTES:
        log.warning("attachment skipped name=%s bytes=%d reason=too-large", name, len(payload))
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(payload)
        try:
            return load_document(path, max_bytes=MAX_ATTACHMENT_BYTES)
        except LoadError as exc:
            log.warning("attachment skipped name=%s reason=%s", name, exc)
            return None
