// The messages page: each record's UTC timestamp also in the browser's local time.
"use strict";
for (const time of document.querySelectorAll("table.messages time[datetime]")) {
  const local = new Date(time.getAttribute("datetime"));
  if (Number.isNaN(local.getTime())) continue;
  const span = document.createElement("span");
  span.className = "local-time";
  span.textContent = local.toLocaleString(undefined, { timeZoneName: "short" });
  time.after(span);
}
// "Show as" switches the format of this very page (same positions); without this
// script the form's Show button applies it from the chosen start.
const select = document.getElementById("id_fmt");
if (select) {
  select.addEventListener("change", () => {
    const url = new URL(window.location.href);
    url.searchParams.set("fmt", select.value);
    window.location.assign(url.toString());
  });
}
