"""Reading a bank statement file (XML, or a ZIP of XML files) into rows, for a large file in a
separate process: the reader parses on one core while the importer books on the other.

The reader yields lists of items in file order: a `camt.Header` before each statement's
entries, then the entries as rows, each with the plan to read it by before it. Whatever it
refuses arrives as the same StatementError at the same place in that order, so the importer
books nothing of a bad file either way. The importer unmarshals and unpickles what comes through
the pipe: the reading process runs only this code, and the file's contents reach the importer
as strings inside tuples, never as code or classes of the file's choosing.
"""

from __future__ import annotations

import gc
import io
import marshal
import os
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from grants.banking.camt import Header, StatementError, read

MAX_BYTES = 200 * 1024 * 1024      # a statement, after unpacking
MAX_ZIP_MEMBERS = 500
# Below this size starting a process costs more than it saves.
SEPARATE_FROM = 4 * 1024 * 1024
CHUNK = 1000                        # entries per message from the reading process


class _Limited(io.RawIOBase):
    """Refuses to read past `limit` bytes: a ZIP member that lies about its size cannot inflate."""

    def __init__(self, raw: IO[bytes], limit: int, name: str):
        self.raw, self.left, self.name = raw, limit, name

    def readable(self):
        return True

    def readinto(self, b):
        data = self.raw.read(min(len(b), self.left + 1))
        if len(data) > self.left:
            raise StatementError(f"{self.name}: larger than {MAX_BYTES // 2**20} MB after unpacking")
        self.left -= len(data)
        b[:len(data)] = data
        return len(data)


def streams(path: Path, max_bytes: int) -> Iterator[tuple[str, IO[bytes]]]:
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic == b"PK\x03\x04":
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as e:
            raise StatementError(f"broken ZIP file: {e}") from None
        with zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) > MAX_ZIP_MEMBERS:
                raise StatementError(f"the ZIP holds {len(members)} files; at most {MAX_ZIP_MEMBERS} are accepted")
            for m in members:
                name = m.filename
                if "/" in name or "\\" in name or ".." in name or name.startswith(("/", "~")) or ":" in name:
                    raise StatementError(f"ZIP member {name!r} has folder parts in its name; refused")
                if m.file_size > max_bytes:
                    raise StatementError(f"ZIP member {name!r} inflates to {m.file_size} bytes; "
                                         f"at most {max_bytes // 2**20} MB are accepted")
            if not members:
                raise StatementError("the ZIP file is empty")
            for m in sorted(members, key=lambda m: m.filename):
                with zf.open(m) as raw:
                    yield m.filename, io.BufferedReader(_Limited(raw, max_bytes, m.filename), 1 << 16)
    else:
        if path.stat().st_size > max_bytes:
            raise StatementError(f"larger than {max_bytes // 2**20} MB")
        with open(path, "rb") as raw:
            yield path.name, raw


def _chunks(path: Path, max_bytes: int) -> Iterator[list]:
    chunk: list = []
    for member, stream in streams(path, max_bytes):
        for item in read(stream, member):
            chunk.append(item)
            # a header goes out at once: the importer refuses a foreign account before the
            # reader has parsed the rest
            if len(chunk) >= CHUNK or item.__class__ is Header:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


class Rows:
    """Iterate over the lists of items of one file; close() stops a reader still running."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, *, separate: bool | None = None):
        self.path, self.max_bytes = Path(path), max_bytes
        if separate is None:
            try:
                separate = self.path.stat().st_size >= SEPARATE_FROM
            except OSError:
                separate = False          # opening it again below says what is wrong
        self.proc = None
        if separate:
            try:
                self.proc = self._start()
            except OSError:
                pass                      # no interpreter to start (embedded): read here instead
        self.finished = False

    def _start(self) -> subprocess.Popen:
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
        proc = subprocess.Popen([sys.executable, "-m", __name__, str(self.path), str(self.max_bytes)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env, bufsize=1 << 20)
        try:
            import fcntl

            # room for a few chunks in the pipe, so that neither side waits for the other's every step
            fcntl.fcntl(_stdout(proc).fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
        except (ImportError, AttributeError, OSError):
            pass
        return proc

    def __enter__(self) -> Rows:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[list]:
        if self.proc is None:
            yield from _chunks(self.path, self.max_bytes)
            return
        out = _stdout(self.proc)
        while True:
            head = out.read(9)
            if len(head) < 9:
                code = self.proc.wait()
                raise RuntimeError(f"the statement reader stopped without an answer (exit code {code})")
            kind, size = head[:1], int.from_bytes(head[1:], "little")
            payload = out.read(size)
            if kind == b"r":
                yield marshal.loads(payload)
            elif kind == b"h":
                yield [pickle.loads(payload)]
            elif kind == b"e":
                self.finished = True
                return
            elif kind == b"x":
                raise StatementError(payload.decode())
            else:
                raise OSError(*pickle.loads(payload))

    def close(self) -> None:
        if self.proc is not None:
            if not self.finished:
                self.proc.kill()        # the importer gave up on the file: no need to read on
            _stdout(self.proc).close()
            self.proc.wait()
            self.proc = None


def _stdout(proc: subprocess.Popen) -> IO[bytes]:
    """The reading process's output, which _start always opens as a pipe."""
    if proc.stdout is None:
        raise RuntimeError("the statement reader has no output pipe")
    return proc.stdout


def _serve(path: str, max_bytes: int) -> None:
    """The reading process: messages to stdout until the end or the first refusal, each a kind
    byte, a length and the data: rows and plans with marshal (plain tuples of strings and numbers,
    several times cheaper than pickle), a statement's header pickled."""
    gc.disable()                          # it makes no reference cycles and lives for one file
    out = sys.stdout.buffer

    def send(kind: bytes, data: bytes) -> None:
        out.write(kind + len(data).to_bytes(8, "little"))
        out.write(data)

    try:
        for chunk in _chunks(Path(path), max_bytes):
            header = chunk.pop() if chunk[-1].__class__ is Header else None   # a header ends its chunk
            if chunk:
                send(b"r", marshal.dumps(chunk))
            if header is not None:
                send(b"h", pickle.dumps(header, pickle.HIGHEST_PROTOCOL))
            out.flush()
        send(b"e", b"")
    except StatementError as e:
        send(b"x", str(e).encode())
    except OSError as e:
        send(b"o", pickle.dumps((e.errno, e.strerror or str(e))))
    out.flush()


if __name__ == "__main__":
    try:
        _serve(sys.argv[1], int(sys.argv[2]))
    except BrokenPipeError:
        # the importer stopped reading (it refused the file): nothing left to say, also not at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
