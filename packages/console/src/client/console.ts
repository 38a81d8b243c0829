/**
 * The console's only script (CSP: script-src 'self'). It shows every <time> in the viewer's
 * time zone, keeping UTC in the tooltip the server rendered, follows the live dead-letter
 * stream, and sends the next request of a replay under way. Everything a dead letter holds
 * is set with textContent, never as HTML. Pages work without it, only not live.
 */
const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

function localize(root: ParentNode): void {
  for (const element of root.querySelectorAll<HTMLTimeElement>('time[datetime]')) {
    const date = new Date(element.dateTime);
    if (!Number.isNaN(date.getTime())) element.textContent = format.format(date);
  }
}

interface LiveDeadLetter {
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: string;
  readonly replayCount: number;
  readonly line: string;
  readonly cause: { readonly class: string; readonly message: string; readonly pipeline?: string; readonly version?: number; readonly rule?: number };
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The structure pages.tsx's DeadLetterItem renders: keep both in step. */
function deadLetterItem(letter: LiveDeadLetter): HTMLLIElement {
  const item = element('li', 'dead-letter');
  item.dataset['id'] = `${letter.partition}/${letter.offset}`;
  const meta = element('p', 'meta');
  const time = element('time', '');
  const utc = `${new Date(letter.timestamp).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  time.dateTime = letter.timestamp;
  time.title = utc;
  time.textContent = format.format(new Date(letter.timestamp));
  const pick = element('input', '');
  pick.type = 'checkbox';
  pick.name = 'deadLetters';
  pick.value = `${letter.partition}/${letter.offset}`;
  pick.setAttribute('form', 'replay-selected');
  pick.setAttribute('aria-label', `select the dead letter at partition ${letter.partition}, offset ${letter.offset}`);
  meta.append(pick, time, ' ', element('span', 'class', letter.cause.class));
  if (letter.cause.pipeline) meta.append(element('span', 'pipeline', `${letter.cause.pipeline}${letter.cause.version === undefined ? '' : ` v${letter.cause.version}`}`));
  if (letter.cause.rule !== undefined) meta.append(element('span', 'rule', `step ${letter.cause.rule}`));
  meta.append(element('span', 'where', `partition ${letter.partition}, offset ${letter.offset}`));
  if (letter.replayCount > 0) meta.append(element('span', 'replays', `replayed ${letter.replayCount}×`));
  const original = element('pre', 'original');
  original.append(element('code', '', letter.line));
  item.append(meta, element('p', 'reason', letter.cause.message), original);
  return item;
}

function follow(list: HTMLElement): void {
  const url = list.dataset['stream'];
  const state = document.getElementById('live-state');
  if (!url) return;
  const source = new EventSource(url);
  const say = (text: string) => {
    if (state) state.textContent = text;
  };
  source.addEventListener('ready', () => say('(live)'));
  source.addEventListener('deadletter', (event) => {
    let letter: LiveDeadLetter;
    try {
      letter = JSON.parse((event as MessageEvent<string>).data) as LiveDeadLetter;
    } catch {
      return;
    }
    const id = `${letter.partition}/${letter.offset}`;
    if ([...list.children].some((child) => (child as HTMLElement).dataset['id'] === id)) return;
    list.prepend(deadLetterItem(letter));
  });
  source.addEventListener('error', () => say(source.readyState === EventSource.CLOSED ? '(not live: reload to try again)' : '(reconnecting…)'));
}

localize(document);
const list = document.getElementById('dead-letters');
if (list) follow(list);
// A replay goes on request after request, each page showing how far it got.
const next = document.querySelector<HTMLFormElement>('form[data-auto-continue]');
if (next) setTimeout(() => next.requestSubmit(), 200);
