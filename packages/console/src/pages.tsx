/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The console's pages, rendered on the server by Preact. Everything shown that came from a
 * tenant (a manifest, an error's reason, a log line) goes in as a text child or an
 * attribute value, which Preact escapes; nothing is ever inserted as HTML, and no href is
 * built from tenant text except through `paths` below (validated names, URI-encoded).
 */
import { createContext, type ComponentChildren } from 'preact';
import { useContext } from 'preact/hooks';
import { renderToString } from 'preact-render-to-string';
import { DEAD_LETTER_CLASSES } from '@tributary/kafka';
import type { DeadLetter, DeadLetterFilter, DryRunResult, ManifestError, PipelineInForce, PipelineStatus, PlatformTraffic, Principal, ReplayResult, TenantOverview, TenantTraffic, TrafficCounts } from './api.js';

export interface Assets {
  readonly css: string;
  readonly js: string;
}

export interface PageContext {
  readonly assets: Assets;
  /** The CSRF token every form posts back. */
  readonly csrf: string;
  readonly principal?: Principal | undefined;
}

/** The console's own URLs: built from tenant and pipeline names (already validated), encoded. */
export const paths = {
  root: '/console',
  signIn: '/console/sign-in',
  signOut: '/console/sign-out',
  tenants: '/console/tenants',
  tenant: (tenant: string) => `/console/tenants/${encodeURIComponent(tenant)}`,
  newPipeline: (tenant: string) => `/console/tenants/${encodeURIComponent(tenant)}/new`,
  pipelines: (tenant: string) => `/console/tenants/${encodeURIComponent(tenant)}/pipelines`,
  pipeline: (tenant: string, name: string) => `/console/tenants/${encodeURIComponent(tenant)}/pipelines/${encodeURIComponent(name)}`,
  /** `filter`: the page's filter fields, in its query. */
  deadLetters: (tenant: string, filter: { pipeline?: string; class?: string } = {}) => {
    const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return `/console/tenants/${encodeURIComponent(tenant)}/deadletters${query ? `?${query}` : ''}`;
  },
  deadLetterStream: (tenant: string) => `/console/tenants/${encodeURIComponent(tenant)}/deadletters/stream`,
  replay: (tenant: string) => `/console/tenants/${encodeURIComponent(tenant)}/deadletters/replay`,
};


export function renderPage(title: string, ctx: PageContext, body: ComponentChildren): string {
  return `<!doctype html>${renderToString(
    <Layout title={title} ctx={ctx}>
      {body}
    </Layout>,
  )}`;
}

function Layout({ title, ctx, children }: { title: string; ctx: PageContext; children: ComponentChildren }) {
  const principal = ctx.principal;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${title} · Tributary`}</title>
        <link rel="stylesheet" href={ctx.assets.css} />
        <script type="module" src={ctx.assets.js} />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href={paths.root}>
            Tributary
          </a>
          {principal && (
            <nav aria-label="account">
              {principal.kind === 'admin' ? <a href={paths.tenants}>All tenants (admin)</a> : <span class="who">Tenant {principal.tenant}</span>}
              <form method="post" action={paths.signOut} class="inline">
                <Csrf token={ctx.csrf} />
                <button type="submit">Sign out</button>
              </form>
            </nav>
          )}
        </header>
        <main id="main" tabIndex={-1}>
          <CsrfToken.Provider value={ctx.csrf}>{children}</CsrfToken.Provider>
        </main>
      </body>
    </html>
  );
}

function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/** An instant: UTC on the server; the page's script shows it in the viewer's zone, UTC on hover. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">never</span>;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return <span>{iso}</span>;
  const utc = `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return (
    <time dateTime={date.toISOString()} title={utc}>
      {utc}
    </time>
  );
}

export function SignInPage({ error }: { error?: string | undefined }) {
  return (
    <section class="narrow">
      <h1>Sign in</h1>
      <p>Use your team’s tenant token (the one the CLI uses as TRIBUTARY_TOKEN). The platform’s admin token shows every tenant.</p>
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
      <form method="post" action={paths.signIn} class="stack">
        <CsrfSlot />
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="off" required autofocus />
        <button type="submit">Sign in</button>
      </form>
    </section>
  );
}

/** The page's CSRF token, for every form in it (the layout provides it). */
const CsrfToken = createContext('');

function CsrfSlot() {
  return <Csrf token={useContext(CsrfToken)} />;
}

/** Every tenant at a glance, for the admin; `platform` undefined when the API could not say. */
export function TenantsPage({ platform }: { platform: PlatformTraffic | undefined }) {
  const tenants = platform?.tenants ?? [];
  return (
    <section>
      <h1>Tenants</h1>
      <form method="get" action={paths.tenants} class="row">
        <label for="tenant">Go to a tenant</label>
        <input id="tenant" name="tenant" required pattern="[a-z0-9]([a-z0-9-]*[a-z0-9])?" />
        <button type="submit">Open</button>
      </form>
      {!platform ? (
        <p class="alert" role="alert">
          The control plane could not measure the tenants just now (Kafka away?). Go to a tenant by name, or reload in a moment.
        </p>
      ) : tenants.length === 0 ? (
        <p class="muted">No tenant has applied a pipeline yet.</p>
      ) : (
        <table class="tenants">
          <caption>
            Records of the last hour as the processors count them ({platform.processors} processors now); lag: records not processed yet. Measured <Time iso={platform.at} />.
          </caption>
          <thead>
            <tr>
              <th scope="col">Tenant</th>
              <th scope="col" class="number">Records (1 h)</th>
              <th scope="col" class="number">Indexed</th>
              <th scope="col" class="number">Dead-lettered</th>
              <th scope="col" class="number">Dead-letter rate</th>
              <th scope="col" class="number">Lag</th>
              <th scope="col">Pipelines in force</th>
            </tr>
          </thead>
          <tbody>
            {tenants.map(({ tenant, lag, lastHour, pipelinesInForce }) => (
              <tr key={tenant}>
                <th scope="row">
                  <a href={paths.tenant(tenant)}>{tenant}</a>
                </th>
                <td class="number">{lastHour.in}</td>
                <td class="number">{lastHour.indexed}</td>
                <td class="number">{lastHour.deadLettered}</td>
                {/* Of the records processed, so replays count on both sides and the rate stays a rate. */}
                <td class="number">{lastHour.in > 0 ? `${((100 * lastHour.deadLettered) / lastHour.in).toFixed(2)} %` : '—'}</td>
                <td class="number">{lag}</td>
                <td>{pipelinesInForce.map((p) => `${p.name} v${p.version}`).join(', ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function State({ version, lastAttempt }: { version: number | null; lastAttempt: { outcome: string } | null }) {
  if (lastAttempt?.outcome === 'rejected') return <span class="state refused">Last change refused{version === null ? '' : `; v${version} in force`}</span>;
  if (lastAttempt?.outcome === 'deleted' && version === null) return <span class="state muted">Deleted</span>;
  return version === null ? <span class="state muted">Not in force</span> : <span class="state ok">In force</span>;
}

/** `1 record`, `5 records`. */
const counted = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

const NO_RECORDS: TrafficCounts = { in: 0, indexed: 0, dropped: 0, deadLettered: 0 };

/** A pipeline's last hour in four cells; dashes when the figures are unavailable. */
function Counts({ counts, deadLetters }: { counts: TrafficCounts | undefined; deadLetters: string }) {
  if (!counts) return <td class="number muted" colspan={4}>— (no figures: the control plane could not read them)</td>;
  return (
    <>
      <td class="number">{counts.in}</td>
      <td class="number">{counts.indexed}</td>
      <td class="number">{counts.dropped}</td>
      <td class="number">{counts.deadLettered === 0 ? 0 : <a href={deadLetters}>{counts.deadLettered}</a>}</td>
    </>
  );
}

export function PipelinesPage({ overview, traffic }: { overview: TenantOverview; traffic?: TenantTraffic | undefined }) {
  const { tenant, pipelines } = overview;
  return (
    <section>
      <h1>
        Pipelines of <span class="name">{tenant}</span>
      </h1>
      {traffic && (
        <p class="glance">
          {`${counted(traffic.recordsLastHour, 'record')} in the last hour · ${traffic.lag} waiting to be processed · ${counted(overview.deadLettersLastHour.total, 'dead letter')} in the last hour`}
        </p>
      )}
      <p class="row">
        <a class="button" href={paths.newPipeline(tenant)}>
          New pipeline
        </a>
        <a class="button" href={paths.deadLetters(tenant)}>
          Dead letters
        </a>
      </p>
      {pipelines.length === 0 ? (
        <p class="muted">No pipeline yet: records of this tenant are indexed by the default pipeline.</p>
      ) : (
        <table class="pipelines">
          <caption>Records over the last hour, as the processors count them (every 10 s): each one in comes out indexed, dropped by a filter, or dead-lettered.</caption>
          <thead>
            <tr>
              <th scope="col">Pipeline</th>
              <th scope="col">Version in force</th>
              <th scope="col">State</th>
              <th scope="col">Last change</th>
              <th scope="col" class="number">In</th>
              <th scope="col" class="number">Indexed</th>
              <th scope="col" class="number">Dropped</th>
              <th scope="col" class="number">Dead-lettered</th>
            </tr>
          </thead>
          <tbody>
            {pipelines.map((p) => (
              <tr key={p.name}>
                <th scope="row">
                  <a href={paths.pipeline(tenant, p.name)}>{p.name}</a>
                </th>
                <td>{p.version === null ? '—' : `v${p.version}`}</td>
                <td>
                  <State version={p.version} lastAttempt={p.lastAttempt} />
                </td>
                <td>
                  <Time iso={p.lastAttempt?.at ?? p.appliedAt} />
                </td>
                <Counts counts={traffic && (traffic.pipelinesLastHour[p.name] ?? NO_RECORDS)} deadLetters={paths.deadLetters(tenant, { pipeline: p.name })} />
              </tr>
            ))}
            {traffic?.pipelinesLastHour[''] && (
              <tr class="muted">
                <th scope="row" colspan={4}>
                  Records no pipeline could read (not an envelope)
                </th>
                <Counts counts={traffic.pipelinesLastHour['']} deadLetters={paths.deadLetters(tenant, { class: 'decode' })} />
              </tr>
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** A manifest's text, line by line, each error shown under the line it names. */
/** `id`: the prefix of each line's anchor (`<id>-L12`), unique on the page. */
export function ManifestSource({ text, errors = [], label, id }: { text: string; errors?: readonly ManifestError[]; label: string; id: string }) {
  const lines = text.replace(/\n$/, '').split('\n');
  const atLine = new Map<number, ManifestError[]>();
  const elsewhere: ManifestError[] = [];
  for (const error of errors) {
    if (error.line !== undefined && error.line >= 1 && error.line <= lines.length) atLine.set(error.line, [...(atLine.get(error.line) ?? []), error]);
    else elsewhere.push(error);
  }
  return (
    <figure class="source">
      <figcaption>{label}</figcaption>
      {elsewhere.length > 0 && <ErrorList errors={elsewhere} />}
      <div class="lines" role="list">
        {lines.map((line, i) => {
          const n = i + 1;
          const here = atLine.get(n) ?? [];
          return (
            <div key={n} role="listitem">
              <div class={here.length > 0 ? 'line bad' : 'line'} id={`${id}-L${n}`}>
                <span class="ln" aria-hidden="true">
                  {n}
                </span>
                <code>{line === '' ? ' ' : line}</code>
              </div>
              {here.map((error, k) => (
                <p key={k} class="line-error" role="note">
                  <span class="where">
                    line {n}
                    {error.col === undefined ? '' : `:${error.col}`}
                  </span>{' '}
                  <span class="path">{error.path || 'manifest'}</span>: <span class="reason">{error.reason}</span>
                </p>
              ))}
            </div>
          );
        })}
      </div>
    </figure>
  );
}

function ErrorList({ errors }: { errors: readonly ManifestError[] }) {
  return (
    <ul class="errors">
      {errors.map((error, i) => (
        <li key={i}>
          <span class="path">{error.path || 'manifest'}</span>: <span class="reason">{error.reason}</span>
        </li>
      ))}
    </ul>
  );
}

/** What happened to the last thing this page submitted, if anything. */
export type Outcome =
  | { readonly kind: 'applied'; readonly version: number; readonly unchanged: boolean }
  | { readonly kind: 'valid' }
  | { readonly kind: 'dryRun'; readonly results: readonly DryRunResult[]; readonly samples: readonly string[] }
  | { readonly kind: 'invalid'; readonly errors: readonly ManifestError[] }
  | { readonly kind: 'rejected'; readonly errors: readonly ManifestError[] }
  | { readonly kind: 'conflict'; readonly current: number; readonly based: number }
  | { readonly kind: 'refused'; readonly message: string };

export interface PipelineView {
  readonly tenant: string;
  readonly name: string;
  readonly inForce?: PipelineInForce | undefined;
  readonly lastStatus?: PipelineStatus | undefined;
  /** The text in the editor (what was just submitted, or what to start from). */
  readonly draft: string;
  /** The version the editor's text started from, sent back as If-Match. */
  readonly basedOn: number;
  /** Sample log lines for a dry run, one per line. */
  readonly samples?: string | undefined;
  readonly outcome?: Outcome | undefined;
  /** YAML of the manifest in force. */
  readonly inForceYaml?: string | undefined;
}

export function PipelinePage(view: PipelineView) {
  const { tenant, name, inForce, lastStatus, outcome } = view;
  const last = lastStatus?.lastAttempt;
  const refusedBefore = !outcome && last?.outcome === 'rejected';
  const submittedErrors = outcome && (outcome.kind === 'invalid' || outcome.kind === 'rejected') ? outcome.errors : undefined;
  return (
    <section>
      <p class="crumbs">
        <a href={paths.tenant(tenant)}>{tenant}</a> / <span>{name}</span>
      </p>
      <h1>
        Pipeline <span class="name">{name}</span>
      </h1>
      <p>
        {inForce ? (
          <>
            Version <strong>{`v${inForce.version}`}</strong> in force since <Time iso={inForce.appliedAt} />.
          </>
        ) : (
          'No version in force.'
        )}
      </p>
      <p>
        <a href={paths.deadLetters(tenant, { pipeline: name })}>Its dead letters</a>
      </p>
      <Banner outcome={outcome} inForce={inForce} />
      {refusedBefore && last && (
        <div class="alert" role="alert">
          <p>
            The last change, at <Time iso={last.at} />, was refused.{' '}
            {inForce ? `The previous version, v${inForce.version}, is still in force.` : 'Nothing is in force.'}
          </p>
          {last.manifest === undefined && <ErrorList errors={last.errors} />}
        </div>
      )}
      {refusedBefore && last?.manifest !== undefined && <ManifestSource id="change" label="The refused change, with its errors" text={last.manifest} errors={last.errors} />}
      {submittedErrors && <ManifestSource id="change" label={outcome?.kind === 'rejected' ? 'Your change, refused' : 'Your change, with its problems'} text={view.draft} errors={submittedErrors} />}
      <form method="post" action={paths.pipeline(tenant, name)} class="stack editor">
        <CsrfSlot />
        <input type="hidden" name="basedOn" value={String(view.basedOn)} />
        <ManifestEditor draft={view.draft} samples={view.samples ?? ''} />
      </form>
      {outcome?.kind === 'dryRun' && <DryRunResults results={outcome.results} samples={outcome.samples} />}
      {view.inForceYaml && <ManifestSource id="in-force" label={`In force: v${inForce?.version ?? ''}`} text={view.inForceYaml} />}
    </section>
  );
}

/** The manifest's text area and the two things to do with it: validate, or apply. */
function ManifestEditor({ draft, samples }: { draft: string; samples: string }) {
  return (
    <>
      <label for="manifest">Manifest (YAML)</label>
      <textarea id="manifest" name="manifest" rows={24} spellcheck={false} required>
        {draft}
      </textarea>
      <label for="samples">Sample log lines for a dry run (one per line)</label>
      <textarea id="samples" name="samples" rows={5} spellcheck={false}>
        {samples}
      </textarea>
      <div class="row">
        <button type="submit" name="intent" value="validate">
          Validate
        </button>
        <button type="submit" name="intent" value="dry-run">
          Dry run
        </button>
        <button type="submit" name="intent" value="apply" class="primary">
          Apply
        </button>
      </div>
    </>
  );
}

function Banner({ outcome, inForce }: { outcome?: Outcome | undefined; inForce?: PipelineInForce | undefined }) {
  if (!outcome) return null;
  switch (outcome.kind) {
    case 'applied':
      return (
        <p class="notice" role="status">
          {outcome.unchanged ? `Nothing changed: v${outcome.version} is in force as it was.` : `Applied: v${outcome.version} is in force, and the processors are reloading it.`}
        </p>
      );
    case 'dryRun':
      return (
        <p class="notice" role="status">
          {`Dry run: ${outcome.results.filter((r) => r.outcome === 'document').length} documents, ${outcome.results.filter((r) => r.outcome === 'drop').length} dropped, ${outcome.results.filter((r) => r.outcome === 'deadLetter').length} dead letters. Nothing was applied.`}
        </p>
      );
    case 'valid':
      return (
        <p class="notice" role="status">
          Valid: the schema, the compile and the manifest’s own tests pass. Nothing was applied yet.
        </p>
      );
    case 'invalid':
      return (
        <p class="alert" role="alert">
          Not valid: see each problem at its line below. Nothing was applied.
        </p>
      );
    case 'rejected':
      return (
        <p class="alert" role="alert">
          Refused: see each error at its line below. {inForce ? `The previous version, v${inForce.version}, is still in force.` : 'Nothing is in force.'}
        </p>
      );
    case 'conflict':
      return (
        <p class="alert" role="alert">
          Not applied: you edited v{outcome.based}, but v{outcome.current} was applied meanwhile (by someone else, or from another window). Your text is kept below; compare it with
          what is in force now, then apply again.
        </p>
      );
    case 'refused':
      return (
        <p class="alert" role="alert">
          {outcome.message}
        </p>
      );
  }
}

/** `errors`: problems with the form itself (the name); `outcome`: what validating or applying the text gave. */
export function NewPipelinePage({ tenant, name, draft, errors, outcome, samples }: { tenant: string; name: string; draft: string; errors?: readonly ManifestError[] | undefined; outcome?: Outcome | undefined; samples?: string | undefined }) {
  const textErrors = outcome && (outcome.kind === 'invalid' || outcome.kind === 'rejected') ? outcome.errors : undefined;
  return (
    <section>
      <p class="crumbs">
        <a href={paths.tenant(tenant)}>{tenant}</a> / <span>new</span>
      </p>
      <h1>New pipeline</h1>
      <Banner outcome={outcome} />
      {errors && <ErrorList errors={errors} />}
      {textErrors && <ManifestSource id="change" label="Your pipeline, with its problems" text={draft} errors={textErrors} />}
      <form method="post" action={paths.pipelines(tenant)} class="stack editor">
        <CsrfSlot />
        <label for="name">Name</label>
        <input id="name" name="name" value={name} required pattern="[a-z0-9]([a-z0-9-]*[a-z0-9])?" />
        <ManifestEditor draft={draft} samples={samples ?? ''} />
      </form>
      {outcome?.kind === 'dryRun' && <DryRunResults results={outcome.results} samples={outcome.samples} />}
    </section>
  );
}

export function ErrorPage({ title, message }: { title: string; message: string }) {
  return (
    <section class="narrow">
      <h1>{title}</h1>
      <p role="alert">{message}</p>
      <p>
        <a href={paths.root}>Back to the console</a>
      </p>
    </section>
  );
}

/** A dead letter with the original line it holds (the envelope's message, else its raw value). */
export interface ShownDeadLetter extends DeadLetter {
  readonly line: string;
}

/**
 * One dead letter. The page's script builds the same structure, with textContent only, for
 * those that arrive live (client/console.ts: keep both in step).
 */
export function DeadLetterItem({ letter }: { letter: ShownDeadLetter }) {
  const cause = letter.cause;
  return (
    <li class="dead-letter" data-id={`${letter.partition}/${letter.offset}`}>
      <p class="meta">
        <input type="checkbox" name="deadLetters" value={`${letter.partition}/${letter.offset}`} form="replay-selected" aria-label={`select the dead letter at partition ${letter.partition}, offset ${letter.offset}`} />
        <Time iso={letter.timestamp} /> <span class="class">{cause.class}</span>
        {cause.pipeline && <span class="pipeline">{`${cause.pipeline}${cause.version === undefined ? '' : ` v${cause.version}`}`}</span>}
        {cause.rule !== undefined && <span class="rule">{`step ${cause.rule}`}</span>}
        <span class="where">{`partition ${letter.partition}, offset ${letter.offset}`}</span>
        {letter.replayCount > 0 && <span class="replays">{`replayed ${letter.replayCount}×`}</span>}
      </p>
      <p class="reason">{cause.message}</p>
      <pre class="original">
        <code>{letter.line}</code>
      </pre>
    </li>
  );
}

export interface DeadLettersView {
  readonly tenant: string;
  readonly filter: DeadLetterFilter;
  readonly pipelines: readonly string[];
  readonly letters: readonly ShownDeadLetter[];
  readonly overview?: TenantOverview | undefined;
  readonly replay?: { readonly request: DeadLetterFilter & { dryRun: boolean; deadLetters?: readonly string[] | undefined }; readonly result?: ReplayResult | undefined; readonly errors?: readonly ManifestError[] | undefined } | undefined;
  /** Defaults of the replay form: the last hour. */
  readonly since: string;
  readonly until: string;
  readonly error?: string | undefined;
}

export function DeadLettersPage(view: DeadLettersView) {
  const { tenant, filter } = view;
  const stream = `${paths.deadLetterStream(tenant)}?${new URLSearchParams(Object.entries({ pipeline: filter.pipeline, class: filter.class }).filter((e): e is [string, string] => !!e[1])).toString()}`;
  const deliveries = (view.overview?.pipelines ?? []).flatMap((p) => p.notifications);
  return (
    <section>
      <p class="crumbs">
        <a href={paths.tenant(tenant)}>{tenant}</a> / <span>dead letters</span>
      </p>
      <h1>Dead letters</h1>
      {view.error && (
        <p class="alert" role="alert">
          {view.error}
        </p>
      )}
      <form method="get" action={paths.deadLetters(tenant)} class="row" aria-label="filter">
        <label for="pipeline">Pipeline</label>
        <select id="pipeline" name="pipeline">
          <option value="">all</option>
          {view.pipelines.map((p) => (
            <option key={p} value={p} selected={filter.pipeline === p}>
              {p}
            </option>
          ))}
        </select>
        <label for="class">Class</label>
        <select id="class" name="class">
          <option value="">all</option>
          {DEAD_LETTER_CLASSES.map((c) => (
            <option key={c} value={c} selected={filter.class === c}>
              {c}
            </option>
          ))}
        </select>
        <button type="submit">Filter</button>
      </form>
      <ReplayPanel view={view} />
      <h2>
        Live <span class="live-state muted" id="live-state">(connecting…)</span>
      </h2>
      <form method="post" action={paths.replay(tenant)} id="replay-selected" class="row">
        <CsrfSlot />
        <input type="hidden" name="intent" value="selection" />
        <button type="submit">Replay the selected ones</button>
        <span class="muted">after fixing their pipeline; tick them below</span>
      </form>
      <p class="muted">The newest first: those of the last hour, then each new one as it is written.</p>
      <ol class="dead-letters" id="dead-letters" data-stream={stream} aria-live="polite">
        {view.letters.map((letter) => (
          <DeadLetterItem key={`${letter.partition}/${letter.offset}`} letter={letter} />
        ))}
      </ol>
      {deliveries.length > 0 && (
        <>
          <h2>Notifications</h2>
          <table class="deliveries">
            <thead>
              <tr>
                <th scope="col">Pipeline</th>
                <th scope="col">Subscription</th>
                <th scope="col">Last delivery</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr key={`${d.pipeline}#${d.subscription}`}>
                  <td>{d.pipeline}</td>
                  <td>{`${d.channel} to ${d.destination}`}</td>
                  <td>
                    <Time iso={d.last.at} />
                  </td>
                  <td class={d.last.outcome === 'delivered' ? 'state ok' : 'state refused'}>
                    {`${d.last.outcome}: ${d.last.count} ${d.last.class} dead letter${d.last.count === 1 ? '' : 's'}, ${d.last.attempts} attempt${d.last.attempts === 1 ? '' : 's'}${d.last.status === undefined ? '' : `, HTTP ${d.last.status}`}${d.last.reason ? ` (${d.last.reason})` : ''}`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function ReplayPanel({ view }: { view: DeadLettersView }) {
  const request = view.replay?.request;
  const result = view.replay?.result;
  return (
    <details class="replay" open={view.replay !== undefined}>
      <summary>Replay into logs.{view.tenant}</summary>
      <p class="muted">After fixing the pipeline: the dead letters of a time range (and of the filter above) go back to be processed again, under their original ids.</p>
      {view.replay?.errors && <ErrorList errors={view.replay.errors} />}
      {result && <ReplayProgress request={request} result={result} />}
      {result && !result.done && result.resume !== undefined ? (
        <ReplayContinue view={view} result={result} resume={result.resume} />
      ) : (
        <>
          <form method="post" action={paths.replay(view.tenant)} class="row">
            <CsrfSlot />
            <input type="hidden" name="pipeline" value={request?.pipeline ?? view.filter.pipeline ?? ''} />
            <input type="hidden" name="class" value={request?.class ?? view.filter.class ?? ''} />
            <label for="since">From</label>
            <input id="since" name="since" value={request?.since ?? view.since} size={26} />
            <label for="until">to</label>
            <input id="until" name="until" value={request?.until ?? view.until} size={26} />
            <label>
              <input type="checkbox" name="dryRun" value="true" checked={request?.dryRun ?? false} /> dry run
            </label>
            <button type="submit" class="primary">
              Replay
            </button>
          </form>
          <p class="muted">Times in UTC, RFC 3339 (2026-12-03T10:00:00Z).</p>
        </>
      )}
    </details>
  );
}

type ReplayRequest = NonNullable<DeadLettersView['replay']>['request'];

/** Where a replay is: what it did so far (over every request of it) and how much it has read. */
function ReplayProgress({ request, result }: { request: ReplayRequest | undefined; result: ReplayResult }) {
  const read = result.total - result.remaining;
  return (
    <div class="notice" role="status">
      <p>
        {request?.deadLetters ? `Of the ${request.deadLetters.length} selected: ` : ''}
        {request?.dryRun ? `Dry run: ${result.matched} match, nothing was replayed.` : `Replayed ${result.replayed} of ${result.matched} matching (${result.skipped} skipped, ${result.scanned} read).`}
        {result.done ? ' Done.' : ` Going on: ${read} of ${result.total} records read so far.`}
      </p>
      {!result.done && result.total > 0 && <progress value={read} max={result.total} aria-label="records of the replay read" />}
    </div>
  );
}

/**
 * The next request of a replay under way: the page's script submits it at once (so a long
 * replay shows its progress as it goes); without the script, the button does.
 */
function ReplayContinue({ view, result, resume }: { view: DeadLettersView; result: ReplayResult; resume: string }) {
  const request = view.replay?.request;
  const hidden: Record<string, string> = {
    resume,
    pipeline: request?.pipeline ?? '',
    class: request?.class ?? '',
    since: request?.since ?? '',
    until: request?.until ?? '',
    ...(request?.dryRun ? { dryRun: 'true' } : {}),
    ...(request?.deadLetters ? { deadLetters: request.deadLetters.join(',') } : {}),
    matchedSoFar: String(result.matched),
    replayedSoFar: String(result.replayed),
    skippedSoFar: String(result.skipped),
    scannedSoFar: String(result.scanned),
  };
  return (
    <form method="post" action={paths.replay(view.tenant)} class="row" data-auto-continue="">
      <CsrfSlot />
      {Object.entries(hidden).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class="primary">
        Continue
      </button>
      <a href={paths.deadLetters(view.tenant, { pipeline: view.filter.pipeline, class: view.filter.class })}>Stop here</a>
      <span class="muted">what is replayed stays replayed</span>
    </form>
  );
}

/** A dry run's outcome, line by line: the document and its index, the drop, or the dead letter. */
function DryRunResults({ results, samples }: { results: readonly DryRunResult[]; samples: readonly string[] }) {
  return (
    <table class="dry-run">
      <caption>Dry run, line by line</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Line</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {results.map((r) => (
          <tr key={r.line} class={`outcome-${r.outcome}`}>
            <td class="number">{r.line}</td>
            <td>
              <code class="sample">{samples[r.line - 1] ?? ''}</code>
            </td>
            <td>
              {r.outcome === 'document' && (
                <>
                  <p class="what">{`document in ${r.index}`}</p>
                  <pre class="document">
                    <code>{JSON.stringify(r.document, null, 2)}</code>
                  </pre>
                </>
              )}
              {r.outcome === 'drop' && <p class="what">{`dropped by ${r.step}`}</p>}
              {r.outcome === 'deadLetter' && <p class="what">{`dead letter (${r.class}) at ${r.step}: ${r.message}`}</p>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
