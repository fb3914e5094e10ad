"""A fake Hugging Face Hub on localhost that serves config.json files and records every request.

It speaks the part of the hub protocol huggingface_hub uses to download one file:
``HEAD``/``GET /{repo}/resolve/{revision}/{filename}``, with ETag and X-Repo-Commit headers,
and the X-Error-Code headers the client turns into RepositoryNotFoundError, GatedRepoError,
RevisionNotFoundError and EntryNotFoundError. A ``Range: bytes=A-B`` GET is answered with 206 and
those bytes only, and recorded in ``ranges`` (what the safetensors header readers ask for).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


@dataclass
class FakeRepo:
    files: dict[str, bytes]
    gated: bool = False
    private: bool = False
    revisions: tuple[str, ...] = ("main",)


@dataclass
class FakeHub:
    repos: dict[str, FakeRepo] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    #: every GET of a file: (filename, "bytes=A-B" or None for the whole file)
    gets: list[tuple[str, str | None]] = field(default_factory=list)
    url: str = ""
    #: answer every request with this HTTP status (e.g. 503, an overloaded hub)
    fail_with: int | None = None
    #: wait this long before answering anything (a hub that accepts connections but hangs)
    stall_seconds: float = 0.0
    #: answer one header byte every this many seconds, forever (a hub that beats any per-read timeout)
    trickle_seconds: float = 0.0
    #: trickle only the requests for these files (every request when empty)
    trickle_files: tuple[str, ...] = ()

    def add(self, repo_id: str, config: dict | None = None, **kwargs) -> None:
        files = {"config.json": json.dumps(config or {}).encode()} if config is not None else {}
        files.update(kwargs.pop("files", {}))
        self.repos[repo_id] = FakeRepo(files=files, **kwargs)

    @property
    def requested_files(self) -> list[str]:
        """Files asked for through /resolve/ (huggingface_hub's file downloads)."""
        return [path.split("/resolve/", 1)[1].split("/", 1)[1] for _, path in self.requests if "/resolve/" in path]

    @property
    def other_requests(self) -> list[str]:
        """Anything else, e.g. huggingface_hub's daily /api/agent-harnesses metadata fetch."""
        return [path for _, path in self.requests if "/resolve/" not in path]


def _handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def do_HEAD(self):
            self._answer(body=False)

        def do_GET(self):
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            # The client may give up first (a stalled hub, a timeout): that is what the test wanted.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._serve(body)

        def _error(self, status: int, code: str, message: str) -> None:
            payload = json.dumps({"error": message}).encode()
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(payload)

        def _serve(self, body: bool) -> None:
            path = unquote(self.path.split("?", 1)[0])
            hub.requests.append((self.command, path))
            if hub.stall_seconds:
                time.sleep(hub.stall_seconds)
            if hub.trickle_seconds and (not hub.trickle_files or path.rsplit("/", 1)[-1] in hub.trickle_files):
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for _ in range(600):
                    self.wfile.write(b"X")
                    self.wfile.flush()
                    time.sleep(hub.trickle_seconds)
                return
            if hub.fail_with is not None:
                return self._error(hub.fail_with, "ServiceUnavailable", "overloaded")
            parts = path.strip("/").split("/")
            if "resolve" not in parts:
                return self._error(404, "EntryNotFound", "not served by the fake hub")
            i = parts.index("resolve")
            repo_id, revision, filename = "/".join(parts[:i]), parts[i + 1], "/".join(parts[i + 2:])
            repo = hub.repos.get(repo_id)
            if repo is None or repo.private:
                return self._error(401, "RepoNotFound", "Repository Not Found")
            if repo.gated:
                return self._error(403, "GatedRepo", "Access to this model is restricted")
            if revision not in repo.revisions:
                return self._error(404, "RevisionNotFound", "Invalid rev id")
            if filename not in repo.files:
                return self._error(404, "EntryNotFound", "Entry not found")
            content = repo.files[filename]
            etag = hashlib.sha1(content).hexdigest()
            status = 200
            wanted = self.headers.get("Range")
            if self.command == "GET":
                hub.gets.append((filename, wanted))
            if wanted and self.command == "GET":
                start, _, end = wanted.removeprefix("bytes=").partition("-")
                first, last = int(start), min(int(end) if end else len(content) - 1, len(content) - 1)
                content, status = content[first : last + 1], 206
            self.send_response(status)
            self.send_header("ETag", f'"{etag}"')
            self.send_header("X-Repo-Commit", hashlib.sha1(repo_id.encode() + revision.encode()).hexdigest())
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            if body:
                self.wfile.write(content)

    return Handler


def start(hub: FakeHub) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    # shutdown() waits for the loop's next poll: at the default 0.5 s, half a second per test that uses the hub.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server
