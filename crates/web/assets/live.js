// A page's live region: each act someone else records on what the page shows is announced there
// as one sentence (a polite live region: screen readers read it when the person pauses). Focus
// never moves and nothing else on the page changes. Without this script, the page is complete.
(function () {
  'use strict';
  var region = document.getElementById('councilflow-live');
  if (!region || !window.EventSource) {
    return;
  }
  var address = region.getAttribute('data-stream');
  var last = null;
  var source = null;

  function open() {
    // From the last event seen (after the page's own position at first). While open, the
    // browser reconnects by itself, sending the last id, so nothing is missed.
    var from = last === null ? address : address.replace(/after=\d+/, 'after=' + last);
    source = new EventSource(from);
    source.onmessage = function (event) {
      last = event.lastEventId;
      var line = document.createElement('p');
      line.className = 'govuk-body govuk-!-margin-bottom-1';
      line.textContent = event.data;
      region.appendChild(line);
    };
  }

  // A hidden tab holds no connection (a browser keeps few per site); shown again, it hears what
  // happened meanwhile.
  document.addEventListener('visibilitychange', function () {
    if (document.hidden && source) {
      source.close();
      source = null;
    } else if (!document.hidden && !source) {
      open();
    }
  });
  if (!document.hidden) {
    open();
  }
})();
