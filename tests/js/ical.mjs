// Reads an iCalendar file with ical.js (Mozilla's parser, as Thunderbird uses it), not with
// anything councilflow wrote. Prints one JSON line: the calendar's name and each event's UID,
// summary, date, description and URL; or {"error": ...} if ical.js cannot read it.
//
// usage: node ical.mjs < calendar.ics
import ICAL from 'ical.js';

let text = '';
for await (const chunk of process.stdin) text += chunk;
try {
  const calendar = new ICAL.Component(ICAL.parse(text));
  const events = calendar.getAllSubcomponents('vevent').map((v) => {
    const event = new ICAL.Event(v);
    return {
      uid: event.uid,
      summary: event.summary,
      date: event.startDate.toString(),
      allDay: event.startDate.isDate,
      description: event.description,
      url: v.getFirstPropertyValue('url'),
    };
  });
  console.log(JSON.stringify({ name: calendar.getFirstPropertyValue('x-wr-calname'), events }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e) }));
}
