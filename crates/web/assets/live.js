// A page's live region: each act someone else records on what the page shows is announced there
// as one sentence (a polite live region: screen readers read it when the person pauses). Focus
// never moves and nothing else on the page changes. Without this script, the page is complete.
(function () {
  'use strict';
  var region = document.getElementById('councilflow-live');
  if (!region || !window.EventSource) {
    return;
  }
  // The browser reconnects by itself, sending the last event's id, so nothing is missed.
  var source = new EventSource(region.getAttribute('data-stream'));
  source.onmessage = function (event) {
    var line = document.createElement('p');
    line.className = 'govuk-body govuk-!-margin-bottom-1';
    line.textContent = event.data;
    region.appendChild(line);
  };
})();
