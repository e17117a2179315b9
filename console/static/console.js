// The console's light enhancement, shipped with the package (no CDN): the unit pickers
// offer matching units as one types, and a form is sent once however often its button
// is pressed (the server records it once anyway: each form carries an idempotency key).
(function () {
  "use strict";
  const list = document.getElementById("units");
  let asked = "";
  let timer = null;
  function offer(text) {
    if (!list || text === asked || text.length < 1) return;
    asked = text;
    fetch("/search/units?q=" + encodeURIComponent(text), { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : []))
      .then((units) => {
        if (text !== asked) return;
        list.replaceChildren(
          ...units.map((u) => {
            const option = document.createElement("option");
            option.value = u.name;
            option.label = u.code;
            return option;
          })
        );
      })
      .catch(() => {});
  }
  document.querySelectorAll("input.unit-picker").forEach((input) => {
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => offer(input.value.trim()), 150);
    });
  });
  document.querySelectorAll("form.record").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      form.querySelectorAll("button").forEach((b) => b.setAttribute("aria-busy", "true"));
    });
  });
  // A document's SHA-256 and size, computed here: the file itself is never sent.
  document.querySelectorAll("input[type=file][data-digest]").forEach((input) => {
    input.addEventListener("change", async () => {
      const file = input.files && input.files[0];
      if (!file || !window.crypto || !crypto.subtle) return;
      const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
      const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"));
      document.getElementById(input.dataset.digest).value = hex.join("");
      if (input.dataset.size) document.getElementById(input.dataset.size).value = file.size;
    });
  });
  const feed = document.getElementById("feed");
  if (feed && window.EventSource) {
    const source = new EventSource("/feed?after=" + encodeURIComponent(feed.dataset.after));
    const show = (message) => {
      const event = JSON.parse(message.data);
      const item = document.createElement("li");
      const who = event.data && event.data.principal ? " · " + event.data.principal : "";
      item.textContent = "#" + event.position + " " + event.type + " · " + event.time + who;
      item.dataset.position = event.position;
      feed.prepend(item);
      while (feed.children.length > 50) feed.lastChild.remove();
    };
    JSON.parse(feed.dataset.types).forEach((type) => source.addEventListener(type, show));
  }
})();
