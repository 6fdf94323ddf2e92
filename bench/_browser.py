"""Browsers for the benchmarks that drive a running ``cordon serve`` over HTTP: one browser with its cookies
(signs in through the login form, posts with its CSRF token, follows redirects), and a stream of readers and
logins running side by side that records every request's latency."""

from __future__ import annotations

import http.cookiejar
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field


class Browser:
    """One browser: its own cookies; follows redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next((c.value or "" for c in self.jar if c.name == "csrftoken"), "")

    def get(self, path: str, htmx: bool = False) -> tuple[int, str, str]:
        request = urllib.request.Request(self.base + path, headers={"HX-Request": "true"} if htmx else {})
        return self._open(request)

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str, str]:
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": self.csrf(), **data}).encode()
        request = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> tuple[int, str, str]:
        """(status, final path, body); an HTTP error is returned as its status, a dropped connection raises."""
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, urllib.parse.urlsplit(response.url).path, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, urllib.parse.urlsplit(exc.url).path, ""

    def login(self, username: str, password: str) -> bool:
        self.get("/login/")
        status, path, _ = self.post("/login/", {"username": username, "password": password})
        return status == 200 and path != "/login/"


@dataclass
class Sample:
    kind: str
    seconds: float
    error: str = ""  # "" when the request was answered as expected
    at: float = 0.0  # when it was sent (epoch seconds)


@dataclass
class Stream:
    """Readers and a login stream running side by side until ``stop()``; every request's latency."""

    base: str
    readers: list[tuple[Browser, list[str]]]
    logins: list[str]
    password: str
    think: float
    login_pause: float
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def record(self, kind: str, t0: float, error: str = "") -> None:
        took = time.perf_counter() - t0
        with self._lock:
            self.samples.append(Sample(kind, took, error, time.time() - took))

    def start(self) -> None:
        self._stop.clear()
        self.samples = []
        self._threads = [
            threading.Thread(target=self._read, args=(i, b, pages), daemon=True)
            for i, (b, pages) in enumerate(self.readers)
        ] + [threading.Thread(target=self._login, daemon=True)]
        for t in self._threads:
            t.start()

    def stop(self) -> list[Sample]:
        self._stop.set()
        for t in self._threads:
            t.join()
        return list(self.samples)

    def _read(self, i: int, browser: Browser, pages: list[str]) -> None:
        k = i  # readers start at different pages
        self._stop.wait(self.think * i / max(1, len(self.readers)))
        while not self._stop.is_set():
            kind, path = pages[k % len(pages)].split("|", 1)
            k += 1
            t0 = time.perf_counter()
            try:
                status, _, _ = browser.get(path)
                self.record(kind, t0, "" if status == 200 else f"HTTP {status}")
            except OSError as exc:
                self.record(kind, t0, type(exc).__name__)
            self._stop.wait(self.think)

    def _login(self) -> None:
        k = 0
        while not self._stop.is_set():
            browser = Browser(self.base)
            username = self.logins[k % len(self.logins)]
            k += 1
            t0 = time.perf_counter()
            try:
                status, _, _ = browser.get("/login/")
                self.record("login form (GET)", t0, "" if status == 200 else f"HTTP {status}")
                t0 = time.perf_counter()
                status, path, _ = browser.post("/login/", {"username": username, "password": self.password})
                error = "" if status == 200 and path == "/" else f"HTTP {status} at {path}"
                self.record("login (POST + home)", t0, error)
            except OSError as exc:
                self.record("login (POST + home)", t0, type(exc).__name__)
            self._stop.wait(self.login_pause)
