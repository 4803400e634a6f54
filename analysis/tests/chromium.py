"""Render a page in headless Chromium (Debian `chromium`) and measure it
with the page's own layout: a minimal DevTools-protocol client over
--remote-debugging-pipe (file descriptors 3 and 4, NUL-terminated JSON),
so nothing beyond the standard library and the browser is needed.

measure([(path, width), ...]) loads each file://path in a window `width`
CSS pixels wide and returns, once its load event has fired, what the
page's layout says about every <img> (loaded, natural and shown size, its
box against its figure's and the page's), each figure's box, and the
page's scroll width.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

NAMES = ("chromium", "chromium-browser", "google-chrome")


def browser():
    """The Chromium executable, or None."""
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


# Runs in the page after its load event: every number the tests check.
MEASURE_JS = r"""
(() => {
  const r = e => { const b = e.getBoundingClientRect();
    return {left: b.left, right: b.right, top: b.top, bottom: b.bottom,
            width: b.width, height: b.height}; };
  const doc = document.documentElement;
  const imgs = [...document.images].map(img => {
    const fig = img.closest('figure');
    const cs = getComputedStyle(img);
    return {src: img.getAttribute('src').slice(0, 200),
            complete: img.complete, naturalWidth: img.naturalWidth,
            naturalHeight: img.naturalHeight, box: r(img),
            figure: fig ? fig.id : null, figureBox: fig ? r(fig) : null,
            display: cs.display, visibility: cs.visibility,
            overflowParents: (() => { const out = [];
              for (let p = img.parentElement; p; p = p.parentElement) {
                const s = getComputedStyle(p);
                if (s.overflow !== 'visible') out.push({tag: p.tagName,
                  overflow: s.overflow, box: r(p)}); }
              return out; })()};
  });
  const figs = [...document.querySelectorAll('figure')].map(f => {
    const cap = f.querySelector('figcaption');
    const head = f.querySelector('h3');
    return {id: f.id, box: r(f), caption: cap ? r(cap) : null,
            heading: head ? r(head) : null,
            headingScroll: head ? head.scrollWidth : 0,
            headingClient: head ? head.clientWidth : 0};
  });
  return {imgs, figs, scrollWidth: doc.scrollWidth,
          clientWidth: doc.clientWidth, bodyBox: r(document.body),
          title: document.title};
})()
"""


class _Pipe:
    """The DevTools protocol over Chromium's debugging pipe."""

    def __init__(self, exe, width, height):
        self.dir = tempfile.mkdtemp(prefix="pdchrome")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # the browser reads commands on fd 3 and writes replies on fd 4;
        # subprocess closes every descriptor but 0-2 before preexec_fn runs
        # only with close_fds, so the copies are made in preexec_fn with
        # close_fds off (os.pipe's own descriptors are close-on-exec)
        def child_fds():
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
        self.proc = subprocess.Popen(
            [exe, "--headless", "--disable-gpu", "--no-sandbox",
             "--remote-debugging-pipe", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions",
             "--allow-file-access-from-files", "--hide-scrollbars",
             f"--user-data-dir={self.dir}",
             f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, preexec_fn=child_fds,
            close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf, self.next_id, self.events = b"", 0, []

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the debugging pipe "
                                   f"(exit {self.proc.poll()})")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, session, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method and \
                        m.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001 -- closing anyway
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)
        shutil.rmtree(self.dir, ignore_errors=True)


def measure(pages, height=900, exe=None, timeout=120):
    """Load each page of `pages` [(path, width)] in headless Chromium (one
    browser, a fresh tab per page, `width` CSS pixels wide) and return
    MEASURE_JS's result for each (a list of dicts) after its load event."""
    exe = exe or browser()
    if not exe:
        raise FileNotFoundError("chromium not found")
    pipe = _Pipe(exe, max(w for _, w in pages), height)
    out = []
    try:
        for path, width in pages:
            target = pipe.call("Target.createTarget", {"url": "about:blank"},
                               timeout=timeout)["targetId"]
            session = pipe.call("Target.attachToTarget",
                                {"targetId": target, "flatten": True})[
                "sessionId"]
            pipe.call("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height,
                       "deviceScaleFactor": 1, "mobile": False}, session)
            pipe.call("Page.enable", session=session)
            pipe.call("Page.navigate",
                      {"url": "file://" + os.path.abspath(path)}, session)
            pipe.wait_event("Page.loadEventFired", session, timeout=timeout)
            res = pipe.call("Runtime.evaluate",
                            {"expression": MEASURE_JS,
                             "returnByValue": True}, session)
            if "exceptionDetails" in res:
                raise RuntimeError(f"measuring {path}: "
                                   f"{res['exceptionDetails']}")
            out.append(res["result"]["value"])
            pipe.call("Target.closeTarget", {"targetId": target})
        return out
    finally:
        pipe.close()
