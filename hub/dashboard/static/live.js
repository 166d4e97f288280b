// The live feed on the Today page: asks /dashboard/feed.json for payments after the last one shown, every
// data-poll milliseconds, and adds them at the top (text only: textContent, never HTML). No library.
(function () {
  "use strict";
  var table = document.getElementById("feed");
  if (!table) { return; }
  var url = table.getAttribute("data-url");
  var cursor = table.getAttribute("data-cursor");
  var every = parseInt(table.getAttribute("data-poll"), 10) || 1000;
  var status = document.getElementById("feed-status");
  var body = table.tBodies[0];
  var busy = false;
  var shown = {};  // payment ids already in the table (the hub re-sends the last few seconds)
  Array.prototype.forEach.call(body.rows, function (tr) { shown[tr.getAttribute("data-id")] = true; });
  var fields = ["time", "terminal", "reference", "method", "payer", "amount", "verdict"];

  function row(item) {
    var tr = document.createElement("tr");
    if (item.flagged) { tr.className = "flag"; }
    fields.forEach(function (name) {
      var td = document.createElement("td");
      td.textContent = item[name] == null ? "" : String(item[name]);
      if (name === "amount") { td.className = "num"; }
      if (name === "payer") { td.className = "payer"; }
      tr.appendChild(td);
    });
    return tr;
  }

  function tick() {
    if (busy) { return; }
    busy = true;
    fetch(url + "?after=" + encodeURIComponent(cursor), { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.status === 401) { window.location.href = "/dashboard/login?expired=1"; return null; }
        return answer.ok ? answer.json() : null;
      })
      .then(function (data) {
        if (!data) { return; }
        data.items.forEach(function (item) {
          if (shown[item.id]) { return; }
          shown[item.id] = true;
          body.insertBefore(row(item), body.firstChild);
          status.textContent = item.time + " " + item.terminal + " " + item.amount;
        });
        cursor = data.cursor;
      })
      .catch(function () { /* the hub is away for a moment: the next tick asks again */ })
      .then(function () { busy = false; });
  }

  window.setInterval(tick, every);
}());
