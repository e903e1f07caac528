// Sorts the report's tables when a column header is clicked, and the quadruple table as a
// "#sort=KEY-asc" or "#sort=KEY-desc" fragment asks, so that a link can share a sorted view.
// Cells say what to sort by: a number's exact value is in data-sort, and a cell for nothing
// ("none", a missing number) is marked data-none and sorts last in either direction.
// Once set up it sets data-ready to 1 on the body, so that a headless browser can tell it ran.
// The page's Content-Security-Policy allows this script by its hash: see script.rs.
"use strict";
(function () {
  var collator = new Intl.Collator(undefined, { numeric: true });

  function headersOf(table) {
    return Array.prototype.slice.call(table.tHead.rows[0].cells);
  }

  function valueOf(cell, numeric) {
    if (!cell || cell.hasAttribute("data-none")) {
      return null;
    }
    if (!numeric) {
      return cell.textContent;
    }
    var n = Number(cell.getAttribute("data-sort"));
    return isNaN(n) ? null : n;
  }

  function sortTable(table, key, dir) {
    var headers = headersOf(table);
    var index = headers.findIndex(function (th) { return th.getAttribute("data-key") === key; });
    if (index < 0) {
      return;
    }
    var numeric = headers[index].getAttribute("data-type") === "number";
    var sign = dir === "desc" ? -1 : 1;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row) {
      return { row: row, value: valueOf(row.cells[index], numeric) };
    });
    // Stable: rows that tie keep the order of the previous sort.
    rows.sort(function (a, b) {
      if (a.value === null || b.value === null) {
        return (a.value === null) - (b.value === null);
      }
      return sign * (numeric ? a.value - b.value : collator.compare(a.value, b.value));
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
    headers.forEach(function (th, i) {
      if (i === index) {
        th.setAttribute("aria-sort", dir === "desc" ? "descending" : "ascending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
  }

  function applyFragment() {
    var asked = /^#sort=([a-z0-9_]+)-(asc|desc)$/.exec(window.location.hash);
    var table = document.getElementById("quad-table");
    if (asked && table) {
      sortTable(table, asked[1], asked[2]);
    }
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    headersOf(table).forEach(function (th) {
      var button = th.querySelector("button");
      var key = th.getAttribute("data-key");
      if (!button || !key) {
        return;
      }
      button.addEventListener("click", function () {
        var now = th.getAttribute("aria-sort");
        // A first click shows the largest numbers, or names from A.
        var dir = now === "descending" ? "asc"
          : now === "ascending" ? "desc"
          : th.getAttribute("data-type") === "number" ? "desc" : "asc";
        sortTable(table, key, dir);
        if (table.id === "quad-table") {
          try {
            window.history.replaceState(null, "", "#sort=" + key + "-" + dir);
          } catch (e) {
            // Some browsers refuse it for file: pages; the sort itself is done.
          }
        }
      });
    });
  });
  window.addEventListener("hashchange", applyFragment);
  applyFragment();
  document.body.setAttribute("data-ready", "1");
})();
