"""Records rendered for the browser: text stays text, anything else becomes hex."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from console.records import MAX_SHOWN_BYTES, render_bytes, render_record


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        (b"hello", "utf-8", "hello"),
        (b"", "utf-8", ""),
        ("grüße 🙂".encode(), "utf-8", "grüße 🙂"),
        (b"line one\nline\ttwo\r\n", "utf-8", "line one\nline\ttwo\r\n"),
        (b"<script>alert(1)</script>", "utf-8", "<script>alert(1)</script>"),
        (b"\x00\x01\xff", "hex", "00 01 ff"),
        (b"nul\x00inside", "hex", "6e 75 6c 00 69 6e 73 69 64 65"),
        (b"\x1b[31mred", "hex", "1b 5b 33 31 6d 72 65 64"),
        (b"\xc3\x28", "hex", "c3 28"),
    ],
    ids=["ascii", "empty", "unicode", "whitespace", "html", "binary", "nul", "ansi", "bad-utf8"],
)
def test_render_bytes_shows_printable_utf8_as_text_else_hex(
    data: bytes, encoding: str, text: str
) -> None:
    assert render_bytes(data) == {
        "encoding": encoding, "text": text, "size": len(data), "truncated": False,
    }  # fmt: skip


def test_render_bytes_keeps_null() -> None:
    assert render_bytes(None) is None


def test_render_bytes_truncates_large_values_without_calling_a_cut_character_binary() -> None:
    data = "é".encode() * MAX_SHOWN_BYTES  # 2 bytes each: the cut falls inside a character
    rendered = render_bytes(data)
    assert rendered is not None
    assert rendered["encoding"] == "utf-8"
    assert rendered["truncated"] is True
    assert rendered["size"] == len(data)
    assert rendered["text"] == "é" * (MAX_SHOWN_BYTES // 2)


@dataclass
class FakeMessage:
    _headers: list[tuple[str, bytes | None]] | None = field(default_factory=list)

    def topic(self) -> str:
        return "t"

    def partition(self) -> int:
        return 2

    def offset(self) -> int:
        return 41

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_700_000_000_000)

    def key(self) -> bytes | None:
        return None

    def value(self) -> bytes | None:
        return b"\xff\xfe"

    def headers(self) -> list[tuple[str, bytes | None]] | None:
        return self._headers


def test_render_record_carries_position_timestamp_and_headers() -> None:
    record = render_record(FakeMessage([("trace", b"abc"), ("bin", b"\x00"), ("none", None)]))
    assert record["partition"] == 2
    assert record["offset"] == 41
    assert record["timestamp"] == 1_700_000_000_000
    assert record["timestamp_type"] == "CreateTime"
    assert record["key"] is None
    assert record["value"]["text"] == "ff fe"
    assert [(h["key"], h["value"] and h["value"]["text"]) for h in record["headers"]] == [
        ("trace", "abc"),
        ("bin", "00"),
        ("none", None),
    ]


def test_render_record_without_headers() -> None:
    assert render_record(FakeMessage(None))["headers"] == []
