export { createSendgridSigner, type SendgridEventInit, type SendgridSigner, sendgridEvent } from './sendgrid.js';
export { type SesNotificationInit, sesNotification } from './ses.js';
export { createSnsSigner, type SnsFields, type SnsSigner, snsNotification, snsSubscriptionConfirmation } from './sns.js';
