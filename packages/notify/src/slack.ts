import type { DeadLetterNotification } from './grouping.js';

/** A Slack-compatible incoming-webhook message (`text`, mrkdwn) for a notification. */
export function slackMessage(n: DeadLetterNotification): { text: string } {
  const pipeline = n.pipeline ? `${n.tenant}/${n.pipeline.name}${n.pipeline.version === null ? '' : ` v${n.pipeline.version}`}` : n.tenant;
  const rule = n.rule === null ? '' : `, step ${n.rule}`;
  const lines = [
    `:warning: *${pipeline}*: ${n.count.toLocaleString('en-US')} dead letter${n.count === 1 ? '' : 's'} (${n.class}${rule}) from ${n.firstAt} to ${n.lastAt}`,
    `> ${escape(n.message).slice(0, 500)}`,
  ];
  const sample = n.samples[0]?.message ?? n.samples[0]?.value;
  if (sample) lines.push('```', escape(sample).replaceAll('```', "'''").slice(0, 1000), '```');
  lines.push(`Inspect: \`${n.commands.show}\``, `Replay after a fix: \`${n.commands.replay}\``);
  return { text: lines.join('\n') };
}

/** Slack's three control characters, escaped as its docs ask. */
function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
