/**
 * The console's only script (CSP: script-src 'self'). It shows every <time> in the viewer's
 * time zone, keeping UTC in the tooltip the server rendered. Pages work without it.
 */
function localize(root: ParentNode): void {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  for (const element of root.querySelectorAll<HTMLTimeElement>('time[datetime]')) {
    const date = new Date(element.dateTime);
    if (!Number.isNaN(date.getTime())) element.textContent = format.format(date);
  }
}

localize(document);
