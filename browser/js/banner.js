// The operator's banner (PUT /banner): one line of text over every page and screen until it is
// cleared. Every state event carries it, so a page that connects later shows it at once.

export function showBanner(text) {
  let banner = document.getElementById("banner");
  if (!banner) {
    banner = document.createElement("aside");
    banner.id = "banner";
    banner.className = "banner";
    banner.setAttribute("aria-label", "Announcement");
    const line = document.createElement("p");
    line.setAttribute("role", "status");
    banner.append(line);
    const header = document.querySelector("header.bar");
    if (header) header.after(banner);
    else document.body.prepend(banner);
  }
  banner.firstChild.textContent = text || "";
  banner.hidden = !text;
}
