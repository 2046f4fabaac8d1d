"""Outlook messages (.msg, read by python-oxmsg): read like an .eml (ingest/mail.py).

The message is one post (sender, date, subject) whose body goes through the same thread reader
as an .eml: the earlier messages it quotes are set apart and not indexed, attachments of a
supported type become documents of their own. An .msg is a compound (OLE) file of MAPI
properties; the text is its plain body, else its HTML body as text.
"""

from __future__ import annotations

from pathlib import Path

from ingest.blocks import LoadError, TextBuilder
from ingest.mail import _REPLY_PREFIX, Post, attachment_wanted, load_attachment, thread_posts, write_posts

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def msg_blocks(path: Path, builder: TextBuilder) -> dict:
    """Read one .msg message, its quoted history and its attachments into `builder`; returns its
    title (the subject, without "Re:") and date (when it was sent)."""
    message = _open(path)
    try:
        kind = message.message_class
        if kind.upper().startswith(("IPM.NOTE.SMIME", "IPM.NOTE.RPMSG")):
            raise LoadError("encrypted or rights-protected e-mail: its content cannot be read")
        sent = message.sent_date
        top = Post(_one_line(message.sender or ""), sent.strftime("%Y-%m-%d %H:%M") if sent else "",
                   _one_line(message.subject), _body(message), tuple(_attachments(message)))
    except LoadError:
        raise
    except Exception as exc:  # oxmsg reads lazily: a damaged property stream fails here
        raise LoadError(f"corrupt or unreadable .msg ({type(exc).__name__})") from None
    write_posts(thread_posts(top), builder)
    subject = _REPLY_PREFIX.sub("", top.subject).strip()
    return {"title": subject or None, **({"date": sent.date().isoformat()} if sent else {})}


def _open(path: Path):
    with open(path, "rb") as handle:
        if handle.read(8) != _OLE_MAGIC:
            raise LoadError("not an Outlook message (.msg files are compound OLE files)")
    from oxmsg import Message

    try:
        return Message.load(str(path))
    except Exception as exc:  # olefile raises OSError, ValueError and others on damaged files
        raise LoadError(f"corrupt or unreadable .msg ({type(exc).__name__})") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _body(message) -> str:
    text = message.body
    if not text and (html := message.html_body):
        from bs4 import BeautifulSoup

        text = BeautifulSoup(html, "html.parser").get_text("\n")
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


def _attachments(message):
    """(file name, LoadedDocument) of each attachment by value of a supported type that loads."""
    for attachment in message.attachments:
        name = Path(attachment.file_name or "").name
        if not attachment_wanted(name) or not attachment.attached_by_value:
            continue
        loaded = load_attachment(name, attachment.file_bytes or b"")
        if loaded is not None:
            yield name, loaded
