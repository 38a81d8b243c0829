export { AddressPolicy, NotifyConfigError } from './address-policy.js';
export { BlockedAddressError, checkWebhookUrl, guardedLookup } from './webhook-url.js';
export type { UrlCheck, UrlCheckOptions } from './webhook-url.js';
export { DeadLetterGroups } from './grouping.js';
export type { DeadLetterEntry, DeadLetterNotification, GroupingOptions, NotificationSample } from './grouping.js';
export { NOTIFICATION_HEADERS, signNotification, verifyNotification } from './signature.js';
export { slackMessage } from './slack.js';
export { deliver, SlackChannel, WebhookChannel } from './channels.js';
export type { Attempt, Delivery, DeliveryOptions, HttpChannelOptions, NotificationChannel } from './channels.js';
