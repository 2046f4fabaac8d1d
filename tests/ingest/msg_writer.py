"""A small writer of Outlook .msg files for the tests: no permissively licensed sample .msg ships
in a package the tests can take, and no maintained Python library writes them, so the tests
write their own.

An .msg is a Compound File Binary (MS-CFB, version 3: 512-byte sectors) holding the MAPI
properties of MS-OXMSG: a `__properties_version1.0` stream of 16-byte entries per object (the
message, each recipient, each attachment), and a `__substg1.0_PPPPTTTT` stream for each string
or binary value. Only what a reader needs is written: streams under 4096 bytes go to the mini
stream as the format requires; siblings form a simple right-linked chain (all black), which
readers walk like any red-black tree.
"""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

SECTOR, MINI_SECTOR, MINI_CUTOFF = 512, 64, 4096
FREE, END, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
STRING, BINARY, INT32, TIME = 0x001F, 0x0102, 0x0003, 0x0040


def compound_file(tree: dict) -> bytes:
    """The bytes of a compound file whose root storage holds `tree` ({name: bytes | subtree})."""
    entries: list[dict] = []

    def add(name: str, node, kind: int) -> int:
        index = len(entries)
        entry = {"name": name, "type": kind, "child": NO_STREAM, "right": NO_STREAM, "data": b"", "start": END}
        entries.append(entry)
        if isinstance(node, dict):
            kids = [add(n, v, 1 if isinstance(v, dict) else 2) for n, v in node.items()]
            if kids:
                entry["child"] = kids[0]
            for left, right in zip(kids, kids[1:]):
                entries[left]["right"] = right
        else:
            entry["data"] = node
        return index

    add("Root Entry", tree, 5)
    mini, mini_fat = bytearray(), []
    big = [e for e in entries if e["type"] == 2 and len(e["data"]) >= MINI_CUTOFF]
    for entry in (e for e in entries if e["type"] == 2 and len(e["data"]) < MINI_CUTOFF and e["data"]):
        count = -(-len(entry["data"]) // MINI_SECTOR)
        entry["start"] = len(mini_fat)
        mini_fat += [len(mini_fat) + i + 1 for i in range(count - 1)] + [END]
        mini += entry["data"].ljust(count * MINI_SECTOR, b"\0")
    counts = {"dir": -(-len(entries) // 4), "minifat": -(-len(mini_fat) * 4 // SECTOR),
              "mini": -(-len(mini) // SECTOR), "big": sum(-(-len(e["data"]) // SECTOR) for e in big)}
    others = sum(counts.values())
    fat_count = 1
    while fat_count * SECTOR // 4 < fat_count + others:
        fat_count += 1
    fat = [FAT_SECTOR] * fat_count
    starts = {}
    for name in ("dir", "minifat", "mini"):
        starts[name] = len(fat) if counts[name] else END
        fat += [len(fat) + i + 1 for i in range(counts[name] - 1)] + [END] * bool(counts[name])
    body = bytearray()
    for entry in big:
        count = -(-len(entry["data"]) // SECTOR)
        entry["start"] = len(fat)
        fat += [len(fat) + i + 1 for i in range(count - 1)] + [END]
        body += entry["data"].ljust(count * SECTOR, b"\0")
    root = entries[0]
    root["start"], root["size"] = (starts["mini"], len(mini)) if mini else (END, 0)
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x3E, 3,
                         0xFFFE, 9, 6, b"\0" * 6, 0, fat_count, starts["dir"], 0, MINI_CUTOFF,
                         starts["minifat"], counts["minifat"], END, 0)
    header += struct.pack("<109I", *(list(range(fat_count)) + [FREE] * (109 - fat_count)))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat).ljust(fat_count * SECTOR, b"\xff")
    directory = b"".join(_entry(e) for e in entries).ljust(counts["dir"] * SECTOR, b"\0")
    minifat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat).ljust(counts["minifat"] * SECTOR, b"\xff")
    return bytes(header + fat_bytes + directory + minifat_bytes + bytes(mini).ljust(counts["mini"] * SECTOR, b"\0")
                 + body)


def _entry(entry: dict) -> bytes:
    name = entry["name"].encode("utf-16-le") + b"\0\0"
    size = entry.get("size", len(entry["data"]))
    start = entry["start"] if size or entry["type"] == 5 else END
    return struct.pack("<64sHBBIII16sIQQIQ", name, len(name), entry["type"], 1, NO_STREAM, entry["right"],
                       entry["child"], b"\0" * 16, 0, 0, 0, start, size)


def _properties(props: list[tuple[int, int, object]], header: bytes) -> dict:
    """The `__properties_version1.0` stream and value streams of one object's properties."""
    streams, entries = {}, bytearray(header)
    for pid, kind, value in props:
        if kind in (STRING, BINARY):
            data = value.encode("utf-16-le") if kind == STRING else value
            streams[f"__substg1.0_{pid:04X}{kind:04X}"] = data
            entries += struct.pack("<HHIII", kind, pid, 6, len(data) + (2 if kind == STRING else 0), 0)
        elif kind == INT32:
            entries += struct.pack("<HHIII", kind, pid, 6, value, 0)
        else:  # TIME: 100-ns intervals since 1601
            ticks = int((value - dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)).total_seconds() * 10**7)
            entries += struct.pack("<HHIQ", kind, pid, 6, ticks)
    return {"__properties_version1.0": bytes(entries), **streams}


def write_msg(path: Path, *, sender: str, sender_email: str, subject: str, body: str, sent: dt.datetime,
              attachments: list[tuple[str, bytes]] = (), message_class: str = "IPM.Note") -> Path:
    """An Outlook message at `path`: sender, subject, plain body, sent date and attachments by value."""
    tree: dict = {}
    for number, (name, data) in enumerate(attachments):
        tree[f"__attach_version1.0_#{number:08X}"] = _properties([
            (0x3705, INT32, 1),  # PidTagAttachMethod: by value
            (0x3707, STRING, name),  # PidTagAttachLongFilename
            (0x3701, BINARY, data),  # PidTagAttachDataBinary
        ], b"\0" * 8)
    top_header = struct.pack("<8xIIII8x", 0, len(attachments), 0, len(attachments))
    tree.update(_properties([
        (0x001A, STRING, message_class),  # PidTagMessageClass
        (0x0037, STRING, subject),  # PidTagSubject
        (0x0039, TIME, sent),  # PidTagClientSubmitTime
        (0x0C1A, STRING, sender),  # PidTagSenderName
        (0x0C1F, STRING, sender_email),  # PidTagSenderEmailAddress
        (0x1000, STRING, body),  # PidTagBody
    ], top_header))
    tree["__nameid_version1.0"] = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(compound_file(tree))
    return path
