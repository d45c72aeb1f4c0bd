export { WebhooksRepository } from "./repository.js";
export { WebhooksService } from "./service.js";
export {
  DEFAULT_RETRY_SCHEDULE_MS,
  type NewWebhookSubscription,
  WEBHOOK_EVENT_TYPES,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookDeliveryDetail,
  type WebhookDeliveryStatus,
  type WebhookEventType,
  type WebhookPassResult,
  type WebhookSubscription,
  type WebhookSubscriptionInput,
  type WebhooksOptions,
} from "./types.js";
