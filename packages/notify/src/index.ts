export { AddressPolicy, NotifyConfigError } from './address-policy.js';
export { BlockedAddressError, checkWebhookUrl, guardedLookup } from './webhook-url.js';
export type { UrlCheck, UrlCheckOptions } from './webhook-url.js';
