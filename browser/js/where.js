// Which channel this page shows: the one its address names (/c/<slug>/...; any other address is
// the default channel, whose pages and endpoints keep their old, unprefixed URLs), or the one
// the console moved this screen to (screen.js passes that on; see follow()).

const match = location.pathname.match(/^\/c\/([a-z0-9][a-z0-9_-]*)(?:\/|$)/);
const DEFAULT = "main"; // the default channel's name in GET /channels

export const channelSlug = match ? match[1] : null; // null: the default channel
let current = channelSlug;

const prefixOf = (slug) => (slug && slug !== DEFAULT ? `/c/${slug}` : "");

// The path of an endpoint of this page's channel: `at("/videos")` is /videos or /c/lobby/videos.
export const at = (path, channel = prefixOf(current)) => `${channel}${path}`;

// The console moved this screen to `slug` (null: back to the channel its address names).
// True when that is another channel than the one shown: the caller reconnects.
export function follow(slug) {
  const next = slug ?? channelSlug;
  if (prefixOf(next) === prefixOf(current)) return false;
  current = next;
  return true;
}
