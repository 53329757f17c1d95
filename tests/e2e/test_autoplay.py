"""A browser that blocks sound autoplay: the page plays muted and offers sound."""

from __future__ import annotations

import time
from typing import Any

from ..live import LiveServer

# Headless Chromium allows sound autoplay whatever --autoplay-policy says, so the policy of a
# desktop browser is applied here the way browsers do it: unmuted play() before any user
# gesture is refused with NotAllowedError.
BLOCK_SOUND_AUTOPLAY = """
let gesture = false;  // only real input counts (Playwright's evaluate() would set userActivation)
for (const name of ["pointerdown", "keydown"]) {
  addEventListener(name, (event) => { if (event.isTrusted) gesture = true; }, true);
}
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  if (!this.muted && !gesture) {
    return Promise.reject(new DOMException("play() needs a user gesture", "NotAllowedError"));
  }
  return play.call(this);
};
"""


def test_blocked_autoplay_plays_muted_with_a_tap_for_sound(
    server: LiveServer, browser: Any
) -> None:
    context = browser.new_context(bypass_csp=True)  # wait_for_function evaluates with eval
    try:
        page = context.new_page()
        page.add_init_script(BLOCK_SOUND_AUTOPLAY)
        page.goto(server.url + "/")
        page.wait_for_function("window.simulcastStatus && simulcastStatus().playing", timeout=15000)
        assert page.evaluate("simulcastStatus().muted") is True
        page.click("#sound")  # a real user gesture: sound may play now
        deadline = time.monotonic() + 5
        while page.evaluate("simulcastStatus().muted") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert page.evaluate("simulcastStatus().muted") is False
        assert page.evaluate("document.querySelector('video.front').muted") is False
        assert page.evaluate("simulcastStatus().playing") is True
        assert not page.is_visible("#sound")
    finally:
        context.close()
