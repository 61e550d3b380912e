"""Fetch stage, outgoing headers: what each request says besides its URL.

In: a hop's URL and the caller's validators and Accept type. Out: the header list h11
sends: Host, the fetcher's identity (User-Agent, Accept-Encoding), Accept, the
conditional-GET validators, Basic credentials written into the URL, and the cookies
sites set earlier (kept in httpx's cookie jar, which applies the domain, path and
expiry rules), as the httpx client did before requests went straight to h11.
"""

from __future__ import annotations

import base64

import httpx

from bot.models import Validators

Headers = list[tuple[bytes, bytes]]


class Outgoing:
    """Builds request headers and remembers the cookies answers set."""

    def __init__(self, user_agent: str) -> None:
        self._identity = (
            (b"User-Agent", user_agent.encode()),
            (b"Accept-Encoding", b"gzip, deflate"),
        )
        self._cookies = httpx.Cookies()

    def headers(self, target: httpx.URL, extra: dict[str, str]) -> Headers:
        """The headers of a GET for `target`; `extra` from `request_headers`."""
        headers = [(b"Host", target.netloc), *self._identity]
        if "Accept" not in extra:
            headers.append((b"Accept", b"*/*"))
        headers.extend((name.encode(), value.encode()) for name, value in extra.items())
        if target.userinfo:  # credentials in the source URL
            credentials = f"{target.username}:{target.password}".encode()
            headers.append((b"Authorization", b"Basic " + base64.b64encode(credentials)))
        if self._cookies:
            headers.extend(self._cookie_header(target))
        return headers

    def keep_cookies(self, target: httpx.URL, status: int, headers: Headers) -> None:
        """Remember the cookies an answer from `target` set (call only when it set some)."""
        request = httpx.Request("GET", target)
        self._cookies.extract_cookies(httpx.Response(status, headers=headers, request=request))

    def _cookie_header(self, target: httpx.URL) -> Headers:
        request = httpx.Request("GET", target)
        self._cookies.set_cookie_header(request)
        cookie = request.headers.get("cookie")
        return [(b"Cookie", cookie.encode())] if cookie else []


def request_headers(validators: Validators | None, accept: str | None) -> dict[str, str]:
    """Accept and the conditional-GET validators a caller asked for, as header values."""
    candidates = {
        "Accept": accept,
        "If-None-Match": validators.etag if validators else None,
        "If-Modified-Since": validators.last_modified if validators else None,
    }
    # A stored validator that cannot be sent as a header is dropped, not fatal.
    return {k: v for k, v in candidates.items() if v and v.isascii() and v.isprintable()}
