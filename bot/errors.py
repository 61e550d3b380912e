"""Duta's error tree. Foreign errors are translated into these once, at the edge.

DutaError
 ├── ConfigError(path, line, field)      sources.yaml, taxonomy, environment
 ├── FetchError(url, transient)          anything that stopped a fetch
 │    ├── NotModified                    304: nothing new (not a failure)
 │    ├── BlockedByRobots                robots.txt disallows the URL
 │    ├── TooLarge                       body over the size cap
 │    └── UnsafeUrl                      scheme or address refused
 ├── ParseError(url)                     a feed, sitemap or listing that cannot be read
 ├── ExtractError(url)                   a page whose text cannot be extracted
 └── StoreError                          the database refused an operation
"""

from __future__ import annotations


class DutaError(Exception):
    """Base class for every error Duta raises on purpose."""


class ConfigError(DutaError):
    """A configuration file or setting is wrong; names where."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        field = f" [{self.field}]" if self.field else ""
        return f"{where}{field}: {self.message}" if where else f"{self.message}{field}"


class FetchError(DutaError):
    """A URL could not be fetched. `transient` errors are retried with backoff."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        transient: bool,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        self.url = url
        self.reason = reason
        self.transient = transient
        self.status = status
        self.retry_after_s = retry_after_s
        super().__init__(f"{url}: {reason}")


class NotModified(FetchError):
    """The server answered 304: the cached copy is current."""

    def __init__(self, url: str, *, not_before_s: float | None = None) -> None:
        super().__init__(url, "not modified", transient=False, status=304)
        self.not_before_s = not_before_s


class BlockedByRobots(FetchError):
    """robots.txt disallows fetching this URL."""

    def __init__(self, url: str) -> None:
        super().__init__(url, "disallowed by robots.txt", transient=False)


class TooLarge(FetchError):
    """The response body grew past the configured cap."""

    def __init__(self, url: str, limit_bytes: int) -> None:
        super().__init__(url, f"response larger than {limit_bytes} bytes", transient=False)
        self.limit_bytes = limit_bytes


class UnsafeUrl(FetchError):
    """The URL's scheme or address is not allowed."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, reason, transient=False)


class ParseError(DutaError):
    """A fetched document could not be understood as what the source claims."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")

    def __reduce__(self) -> tuple[type[ParseError], tuple[str, str]]:
        return type(self), (self.url, self.reason)  # crosses the process pool intact


class ExtractError(DutaError):
    """No usable article text could be extracted from a page."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")

    def __reduce__(self) -> tuple[type[ExtractError], tuple[str, str]]:
        return type(self), (self.url, self.reason)  # crosses the process pool intact


class StoreError(DutaError):
    """The database refused an operation."""
