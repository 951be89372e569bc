"""A Hugging Face-compatible hub on 127.0.0.1, serving one folder as GPT-2 small, with faults on demand.

Why not an existing mirror: the one self-hosted mirror on the package index that serves local
files (olah) serves them only as git repositories and brings a web framework with it, and
none can misbehave on demand; these tests are about the misbehaving (a 5xx, a missing file, a
connection cut mid-file, a trickle, silence). So this is the standard library's threading HTTP
server answering the part of the hub's HTTP contract that huggingface_hub's downloads use
(huggingface_hub/file_download.py, get_hf_file_metadata and http_get; hf_api.py, model_info
and list_repo_tree):

- ``HEAD|GET /{repo}/resolve/{revision}/{file}``: ``ETag`` (the content's sha256, as the hub
  gives for LFS files; it names the blob in the cache), ``X-Repo-Commit``, ``Content-Length``,
  ``Accept-Ranges``; a ``Range: bytes=N-`` (a resumed download) gets ``206`` and the rest. A
  missing file is ``404`` with ``X-Error-Code: EntryNotFound``, as the hub answers.
- ``GET /api/models/{repo}[/revision/{revision}]``: the model's info (its commit, its files);
  ``GET /api/models/{repo}/tree/{revision}``: its files with sizes.

It never advertises Xet storage (no ``X-Xet-*`` headers, no ``xetHash``), so downloads stay
plain HTTP through ``http_get``, the path users without ``hf_xet`` take.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPOS = ("openai-community/gpt2", "gpt2")  # the ids TransformerLens 2.x-4.x and transformers ask for
CHUNK = 1 << 20


@functools.lru_cache(maxsize=32)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def sha256(path: Path) -> str:
    stat = path.stat()
    return _sha256(path.resolve(), stat.st_size, stat.st_mtime_ns)


@dataclass
class Faults:
    """What the hub does wrong; tests set these while it runs."""

    status: dict[str, int] = field(default_factory=dict)  # "NAME", "GET NAME" (downloads only) or "*" -> the status answered
    cut_after: dict[str, int] = field(default_factory=dict)  # file name -> close the connection after these bytes (once)
    pause_s: float = 0.0  # a slow hub: this pause before each header line and each 64 KiB of a body
    silent: bool = False  # accept connections, read the request, never answer
    not_a_hub: bool = False  # answer files without the hub's X-Repo-Commit (a proxy's or a portal's page)


class Hub(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a silent handler waits for stop(); closing must not wait for it

    def __init__(self, folder: Path, commit: str) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.folder, self.commit = folder, commit
        self.faults = Faults()
        self.answered: list[str] = []  # "METHOD path [Range]" of every request answered (not the silent's), in order
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def files(self) -> dict[str, Path]:
        """GPT-2 small's files in the folder (not the stand-in's marker: a hub's copy is just weights)."""
        return {p.name: p for p in sorted(self.folder.iterdir()) if p.is_file() and not p.name.startswith("gpt2spec_")}

    def start(self) -> "Hub":
        threading.Thread(target=self.serve_forever, name="hub", daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()

    def record(self, line: str) -> None:
        with self._lock:
            self.answered.append(line)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the hub; every answer has a Content-Length
    server: Hub

    def log_message(self, *args: object) -> None:  # quiet: the tests read `answered`
        pass

    def do_HEAD(self) -> None:
        self.answer(body=False)

    def do_GET(self) -> None:
        self.answer(body=True)

    def answer(self, body: bool) -> None:
        hub, faults = self.server, self.server.faults
        if faults.silent:
            hub.stopping.wait()
            self.close_connection = True
            return
        path = unquote(urlsplit(self.path).path)
        hub.record(f"{self.command} {path}" + (f" {self.headers['Range']}" if self.headers["Range"] else ""))
        name = path.rsplit("/", 1)[-1]
        status = faults.status.get(f"{self.command} {name}") or faults.status.get(name) or faults.status.get("*")
        if status:
            self.send(status, b"", {"X-Error-Message": "a fault the test asked for"}, body)
        elif m := re.fullmatch(r"/(.+)/resolve/([^/]+)/(.+)", path):
            self.resolve(m[1], m[2], m[3], body)
        elif m := re.fullmatch(r"/api/models/(.+?)/tree/([^/]+)(?:/(.+))?", path):
            self.tree(m[1], m[2], m[3], body)
        elif m := re.fullmatch(r"/api/models/(.+?)(?:/revision/([^/]+))?", path):
            self.info(m[1], m[2] or "main", body)
        else:
            self.send(404, b"Not Found", {}, body)

    def unknown(self, repo: str, revision: str, body: bool) -> bool:
        if repo not in REPOS:
            self.send(404, b"Repository not found", {"X-Error-Code": "RepoNotFound"}, body)
        elif revision not in ("main", self.server.commit):
            self.send(404, b"Revision not found", {"X-Error-Code": "RevisionNotFound"}, body)
        else:
            return False
        return True

    def resolve(self, repo: str, revision: str, name: str, body: bool) -> None:
        if self.unknown(repo, revision, body):
            return
        commit = {} if self.server.faults.not_a_hub else {"X-Repo-Commit": self.server.commit}
        path = self.server.files().get(name)
        if path is None:
            self.send(404, b"Entry not found", {**commit, "X-Error-Code": "EntryNotFound"}, body)
            return
        size = path.stat().st_size
        start = 0
        if (m := re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))) and int(m[1]) < size:
            start = int(m[1])
        headers = {
            **commit,
            "ETag": f'"{sha256(path)}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if start:
            headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
        self.head(206 if start else 200, size - start, headers)
        if body:
            self.stream(path, start, name)

    def info(self, repo: str, revision: str, body: bool) -> None:
        if self.unknown(repo, revision, body):
            return
        files = [{"rfilename": name} for name in self.server.files()]
        info = {"id": repo, "modelId": repo, "sha": self.server.commit, "private": False, "gated": False,
                "disabled": False, "library_name": "transformers", "tags": [], "siblings": files}
        self.send(200, json.dumps(info).encode(), {"Content-Type": "application/json"}, body)

    def tree(self, repo: str, revision: str, folder: str | None, body: bool) -> None:
        if self.unknown(repo, revision, body):
            return
        if folder:  # the served repo is flat (transformers asks for additional_chat_templates/)
            self.send(404, b"Entry not found", {"X-Repo-Commit": self.server.commit, "X-Error-Code": "EntryNotFound"}, body)
            return
        entries = [
            {"type": "file", "path": name, "size": p.stat().st_size, "oid": sha256(p)[:40]}
            for name, p in self.server.files().items()
        ]
        self.send(200, json.dumps(entries).encode(), {"Content-Type": "application/json"}, body)

    def head(self, status: int, length: int, headers: dict[str, str]) -> None:
        pause = self.server.faults.pause_s
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(length)}.items():
            if pause:  # a slow hub: each header line trickles in
                self.flush_headers()
                self.server.stopping.wait(pause)
            self.send_header(key, value)
        self.end_headers()

    def send(self, status: int, data: bytes, headers: dict[str, str], body: bool) -> None:
        self.head(status, len(data), headers)
        if body:
            self.wfile.write(data)

    def stream(self, path: Path, start: int, name: str) -> None:
        faults = self.server.faults
        cut = faults.cut_after.pop(name, None)
        step = 1 << 16 if faults.pause_s else CHUNK
        sent = start
        with path.open("rb") as f:
            f.seek(start)
            while block := f.read(step):
                if cut is not None and sent + len(block) > cut:
                    self.wfile.write(block[: max(cut - sent, 0)])
                    self.close_connection = True  # the connection dies mid-file: the client sees fewer bytes than promised
                    return
                self.wfile.write(block)
                sent += len(block)
                if faults.pause_s:
                    self.server.stopping.wait(faults.pause_s)
